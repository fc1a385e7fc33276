import t, { type Test } from 'tap'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import { openSqlViewStore, type SqlViewStore } from './viewstore/sql.ts'
import { Projector, VIEWS_CHECKPOINT } from './projector.ts'
import { decideEmployeeEvents } from '../processors/domain/employee.ts'
import { employeeStreamName } from '../schemas/streams.ts'
import { waitFor } from '../test/support/wait-for.ts'
import type { KomboEmployee } from '../schemas/kombo.ts'

const now = new Date('2026-03-01T12:00:00.000Z')
const employee = (i: number): KomboEmployee => ({
  id: `emp-${i}`,
  first_name: `First${i}`,
  last_name: 'Example',
  work_email: `e${i}@example.test`,
  start_date: '2020-01-01T00:00:00.000Z',
  employment_status: 'ACTIVE',
  changed_at: '2026-03-01T10:00:00.000Z',
})

async function setup(t: Test, slowTransactionsMs = 0) {
  // Two databases, as in production (event store and views apart): the store keeps delivering
  // while a view transaction is open.
  const db = await openPgliteDatabase()
  const viewDb = await openPgliteDatabase()
  t.teardown(() => Promise.all([db.close(), viewDb.close()]))
  const store = await openSqlEventStore(db, { pollIntervalMs: 10 })
  const views = await openSqlViewStore(viewDb)
  // A slow view database: events keep arriving while a batch is being written.
  const slowViews: SqlViewStore = {
    ...views,
    transaction: (fn) =>
      views.transaction(async (tx) => {
        const result = await fn(tx)
        await new Promise((r) => setTimeout(r, slowTransactionsMs))
        return result
      }),
  }
  const append = async (i: number) => {
    const events = decideEmployeeEvents(null, employee(i), { tenant: 'acme', now, invitePolicy: { mode: 'manual' }, timeZone: 'UTC' })
    await store.appendToStream(employeeStreamName('acme', `emp-${i}`), events.map((e) => ({ id: e.id, type: e.type, data: e.data as Record<string, unknown> })))
  }
  return { store, views, slowViews, append }
}

t.test('events that arrive while a batch is written are projected too', async (t) => {
  const { store, views, slowViews, append } = await setup(t, 30)
  const projector = new Projector({ store, views: slowViews, batchSize: 100, flushAfterMs: 5 })
  await projector.start()
  t.teardown(() => projector.stop())
  // Spaced so that timer-driven flushes are under way while the next events arrive.
  for (let i = 0; i < 40; i++) {
    await append(i)
    await new Promise((r) => setTimeout(r, 12))
  }
  await waitFor('40 users', async () => (await views.counts()).users === 40, 30_000)
  const page = await views.listUsers('acme', { limit: 100 })
  t.equal(page.data.length, 40, 'every employee became a user')
  t.equal(page.next, null)
})

t.test('the projector resumes from its checkpoint, and a rebuild gives the same views', async (t) => {
  const { store, views, append } = await setup(t)
  for (let i = 0; i < 10; i++) await append(i)
  const first = new Projector({ store, views })
  await first.start()
  await waitFor('10 users', async () => (await views.counts()).users === 10)
  await first.stop()
  const checkpoint = await views.checkpoint(VIEWS_CHECKPOINT)
  t.ok(checkpoint !== null, 'a checkpoint was written')

  for (let i = 10; i < 15; i++) await append(i)
  let applied = 0
  const second = new Projector({ store, views, onApplied: ({ events }) => (applied += events) })
  await second.start()
  await waitFor('15 users', async () => (await views.counts()).users === 15)
  const before = (await views.listUsers('acme', { limit: 100 })).data
  const appliedOnResume = applied
  t.ok(appliedOnResume > 0 && appliedOnResume < (await store.readAll()).length, 'only the new events were applied on resume')

  await second.rebuild()
  await waitFor('rebuilt', async () => (await views.checkpoint(VIEWS_CHECKPOINT)) === checkpointOfStore(await store.readAll()))
  await second.stop()
  t.same((await views.listUsers('acme', { limit: 100 })).data, before, 'a rebuild from position 0 gives the same users')
})

const checkpointOfStore = (events: Array<{ position: bigint }>) => events[events.length - 1].position

t.test('users sharing a work email are both flagged, and unflagged once it is fixed', async (t) => {
  const { store, views } = await setup(t)
  const projector = new Projector({ store, views })
  await projector.start()
  t.teardown(() => projector.stop())
  const appendRecord = async (record: KomboEmployee, history: Awaited<ReturnType<typeof store.readStream>>) => {
    const { foldEmployee } = await import('../processors/domain/employee-state.ts')
    const state = foldEmployee(history.map((e) => ({ type: e.type, data: e.data }) as never))
    const events = decideEmployeeEvents(state, record, { tenant: 'acme', now, invitePolicy: { mode: 'manual' }, timeZone: 'UTC' })
    await store.appendToStream(employeeStreamName('acme', record.id), events.map((e) => ({ id: e.id, type: e.type, data: e.data as Record<string, unknown> })))
  }
  await appendRecord({ ...employee(1), work_email: 'shared@example.test' }, [])
  await appendRecord({ ...employee(2), work_email: 'Shared@example.test' }, [])
  const flags = async () =>
    (await views.listUsers('acme', { limit: 10 })).data.map((u) => u.issues.includes('duplicate_work_email'))
  await waitFor('both flagged', async () => JSON.stringify(await flags()) === '[true,true]')
  t.pass('both users sharing the address are flagged')
  await appendRecord(
    { ...employee(2), work_email: 'own@example.test', changed_at: '2026-03-01T11:00:00.000Z' },
    await store.readStream(employeeStreamName('acme', 'emp-2')),
  )
  await waitFor('both unflagged', async () => JSON.stringify(await flags()) === '[false,false]')
  t.pass('the flag is cleared on both once the address is no longer shared')
})
