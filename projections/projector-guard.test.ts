// The projection runner's guards: one projector per checkpoint on a view database (a PostgreSQL
// advisory lock; in-process on the embedded database), and a checkpoint that moves only
// compare-and-set, so a stale writer stops instead of overwriting the views.
import t from 'tap'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openPostgresDatabase } from '../sql/postgres.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import { openSqlViewStore } from './viewstore/sql.ts'
import { CheckpointConflictError, CheckpointLockedError } from './viewstore/port.ts'
import { Projector, VIEWS_CHECKPOINT } from './projector.ts'
import { decideEmployeeEvents } from '../processors/domain/employee.ts'
import { employeeStreamName } from '../schemas/streams.ts'
import { testPostgresUrl } from '../test/support/postgres.ts'
import { waitFor } from '../test/support/wait-for.ts'
import type { EventStore } from '../processors/eventstore/port.ts'
import type { KomboEmployee } from '../schemas/kombo.ts'

const now = new Date('2026-03-01T12:00:00.000Z')

async function appendEmployee(store: EventStore, i: number): Promise<bigint> {
  const record: KomboEmployee = { id: `emp-${i}`, first_name: `First${i}`, last_name: 'Example', work_email: `e${i}@example.test`, employment_status: 'ACTIVE', changed_at: '2026-03-01T10:00:00.000Z' }
  const events = decideEmployeeEvents(null, record, { tenant: 'acme', now, invitePolicy: { mode: 'manual' }, timeZone: 'UTC' })
  const result = await store.appendToStream(employeeStreamName('acme', record.id), events.map((e) => ({ id: e.id, type: e.type, data: e.data as Record<string, unknown> })))
  return result.position
}

t.test('two projectors on one PostgreSQL view database: the second is refused, only the first applies', async (t) => {
  const url = await testPostgresUrl(t)
  const storeDb = await openPgliteDatabase()
  // Two processes' worth of connections: each projector has its own pool on the same database.
  const [viewDbA, viewDbB] = [await openPostgresDatabase(url, { max: 2 }), await openPostgresDatabase(url, { max: 2 })]
  t.teardown(() => Promise.all([storeDb.close(), viewDbA.close(), viewDbB.close()]))
  const store = await openSqlEventStore(storeDb, { pollIntervalMs: 10 })
  const [viewsA, viewsB] = [await openSqlViewStore(viewDbA), await openSqlViewStore(viewDbB)]
  let appliedByB = 0
  const a = new Projector({ store, views: viewsA })
  const b = new Projector({ store, views: viewsB, onApplied: ({ events }) => (appliedByB += events) })
  await a.start()
  await t.rejects(b.start(), CheckpointLockedError, 'the second projector is refused while the first holds the checkpoint')
  await t.rejects(b.start(), /another projector holds checkpoint "learnamp-views" on this view database/, 'with a message saying what to do')

  let last = 0n
  for (let i = 0; i < 5; i++) last = await appendEmployee(store, i)
  await a.caughtUp(last)
  t.equal((await viewsA.counts()).users, 5, 'caughtUp resolved once the first projector applied every event')
  t.equal(appliedByB, 0, 'the refused projector applied nothing')

  await a.stop()
  await b.start() // the lock went with the first projector
  t.teardown(() => b.stop())
  last = await appendEmployee(store, 5)
  await b.caughtUp(last)
  t.equal((await viewsB.counts()).users, 6, 'once the first stopped, the second takes over from its checkpoint')
  t.equal(appliedByB, 1, 'and applies only what came after it')
})

t.test('on the embedded database a second projector in the process is refused too', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlEventStore(db, { pollIntervalMs: 10 })
  const views = await openSqlViewStore(db)
  const a = new Projector({ store, views })
  await a.start()
  await t.rejects(new Projector({ store, views }).start(), CheckpointLockedError)
  await a.stop()
  const b = new Projector({ store, views })
  await b.start()
  await b.stop()
  t.pass('the lock is released on stop')
})

t.test('the checkpoint moves compare-and-set: a stale writer is refused and its projector stops', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlEventStore(db, { pollIntervalMs: 10 })
  const views = await openSqlViewStore(db)

  await views.transaction((tx) => tx.setCheckpoint(VIEWS_CHECKPOINT, 10n, null))
  await t.rejects(views.transaction((tx) => tx.setCheckpoint(VIEWS_CHECKPOINT, 20n, null)), CheckpointConflictError, 'a writer that saw no checkpoint cannot create one that exists')
  await t.rejects(views.transaction((tx) => tx.setCheckpoint(VIEWS_CHECKPOINT, 20n, 5n)), { name: 'CheckpointConflictError', expected: 5n, found: 10n })
  t.equal(await views.checkpoint(VIEWS_CHECKPOINT), 10n, 'the refused writes changed nothing')
  await views.transaction((tx) => tx.setCheckpoint(VIEWS_CHECKPOINT, 20n, 10n))
  t.equal(await views.checkpoint(VIEWS_CHECKPOINT), 20n, 'the writer that expected the stored position moves it')
  await views.reset(VIEWS_CHECKPOINT)

  const errors: Error[] = []
  const projector = new Projector({ store, views, onError: (err) => errors.push(err) })
  await projector.start()
  t.teardown(() => projector.stop())
  const first = await appendEmployee(store, 1)
  await projector.caughtUp(first)
  // Another writer moves the checkpoint behind the projector's back (e.g. a second runner that
  // got past no lock): the projector's next batch must not overwrite the views.
  await views.transaction((tx) => tx.setCheckpoint(VIEWS_CHECKPOINT, first + 1000n, first))
  const second = await appendEmployee(store, 2)
  await t.rejects(projector.caughtUp(second), CheckpointConflictError, 'the waiter learns why the projector stopped')
  await waitFor('the conflict reported', () => errors.some((e) => e instanceof CheckpointConflictError))
  t.ok(projector.error instanceof CheckpointConflictError, 'the projector reports the conflict (readiness shows it)')
  t.equal((await views.counts()).users, 1, 'the stale batch was rolled back: its user was not written')
  t.equal(await views.checkpoint(VIEWS_CHECKPOINT), first + 1000n, 'the other writer’s checkpoint stands')
})
