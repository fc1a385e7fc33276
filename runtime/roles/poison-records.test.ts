// The last line of defence (issue 12 item 3): a record that passed validation but keeps failing at
// the processor is dead-lettered with the reason after a bounded number of tries, and an event that
// keeps failing at the projector is skipped and kept in projection_dead_letters — the other
// records, the other tenants' above all, go on. Stores here fail on one specific record.
import t from 'tap'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openSqlEventStore } from '../../processors/eventstore/sql.ts'
import { openSqlPersonalDataKeys } from '../../processors/eventstore/personal-data-keys.ts'
import { appendEach } from '../../processors/eventstore/append-each.ts'
import type { EventStore } from '../../processors/eventstore/port.ts'
import { decideEmployeeEvents } from '../../processors/domain/employee.ts'
import { openSqlDeadLetterStore } from '../../producers/changelog/sql-dead-letters.ts'
import type { ConsumedChange } from '../../producers/changelog/port.ts'
import { openSqlViewStore } from '../../projections/viewstore/sql.ts'
import { Projector, VIEWS_CHECKPOINT } from '../../projections/projector.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import type { KomboEmployee } from '../../schemas/kombo.ts'
import { TenantSettings } from '../../schemas/tenant.ts'
import { createLogger } from '../logger.ts'
import { createMetrics } from '../metrics.ts'
import { changeBatchHandler } from './processor.ts'

const now = () => new Date('2026-03-01T12:00:00.000Z')
const settings = TenantSettings.parse({ invitePolicy: { mode: 'manual' } })
const employee = (id: string): KomboEmployee => ({
  id,
  first_name: `First ${id}`,
  last_name: 'Example',
  work_email: `${id}@example.test`,
  employment_status: 'ACTIVE',
  changed_at: '2026-03-01T10:00:00.000Z',
})

function change(tenant: string, record: KomboEmployee, offset: number): ConsumedChange {
  const envelope = { tenant, integrationId: `${tenant}-int`, resource: 'employees', fetchedAt: '2026-03-01T11:59:00.000Z', pollId: 'poll-1', record }
  return { resource: 'employees', key: `${tenant}:${record.id}`, partition: 0, offset: String(offset), value: envelope, raw: Buffer.from(JSON.stringify(envelope)) }
}

t.test('a record whose append keeps failing is dead-lettered with the reason; the rest, of every tenant, is stored', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const rawEventStore = await openSqlEventStore(db)
  const poisonStream = employeeStreamName('acme', 'emp-3')
  let poisonTries = 0
  // A store that cannot hold one record (as a NUL byte once could not be stored): every append
  // that includes its stream fails, whatever else is in the batch.
  const failing: EventStore = {
    ...rawEventStore,
    appendToStreams: async (appends) => {
      if (appends.some((a) => a.streamName === poisonStream)) {
        poisonTries++
        throw new Error('invalid byte sequence for encoding "UTF8": 0x00')
      }
      return appendEach((a) => rawEventStore.appendToStream(a.streamName, a.events, { expectedRevision: a.expectedRevision }), appends)
    },
  }
  const deadLetters = await openSqlDeadLetterStore(db)
  const metrics = createMetrics()
  const errors: Error[] = []
  const handler = changeBatchHandler(
    {
      stores: { db, eventStore: failing, rawEventStore, deadLetters, personalDataKeys: await openSqlPersonalDataKeys(db) },
      metrics,
      logger: createLogger('silent'),
      now,
      tenantSettingsOf: () => settings,
      tuning: {},
    },
    { onError: (err) => errors.push(err), stopped: () => false },
  )
  const batch = [
    ...['emp-1', 'emp-2', 'emp-3', 'emp-4'].map((id, i) => change('acme', employee(id), i)),
    ...['emp-1', 'emp-2'].map((id, i) => change('globex', employee(id), 10 + i)),
  ]
  await handler.handle(batch) // resolves: the batch is done, nothing left to retry forever

  const letters = await deadLetters.list()
  t.equal(letters.length, 1, 'one dead letter')
  t.equal(letters[0].key, 'acme:emp-3', 'for the record that kept failing')
  t.match(letters[0].reason, /kept failing at the processor after repeated tries: invalid byte sequence/, 'with the reason')
  t.same(letters[0].origin, { resource: 'employees', partition: 0, offset: '2', stage: 'processor' })
  t.equal(handler.poisoned, 1)
  t.ok(poisonTries >= 3 && poisonTries < 20, `tried a bounded number of times (${poisonTries})`)
  t.ok(errors.length > 0, 'each failure was reported')
  for (const [tenant, id] of [['acme', 'emp-1'], ['acme', 'emp-2'], ['acme', 'emp-4'], ['globex', 'emp-1'], ['globex', 'emp-2']]) {
    t.ok((await rawEventStore.readStream(employeeStreamName(tenant, id))).length > 0, `${tenant}/${id} was stored`)
  }
  t.equal((await rawEventStore.readStream(poisonStream)).length, 0, 'the poison record was not')
  t.match(await metrics.registry.getSingleMetricAsString('kombo_sync_processor_poisoned_records_total'), /kombo_sync_processor_poisoned_records_total 1/)
})

t.test('while the event store is down, a failing batch is retried, never dead-lettered', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const rawEventStore = await openSqlEventStore(db)
  let down = true
  let tries = 0
  const flaky: EventStore = {
    ...rawEventStore,
    readAll: async (o) => (down ? Promise.reject(new Error('connection refused')) : rawEventStore.readAll(o)),
    appendToStreams: async (appends) => {
      if (down && ++tries >= 6) down = false // back after a while
      if (down) throw new Error('connection refused')
      return rawEventStore.appendToStreams(appends)
    },
  }
  const deadLetters = await openSqlDeadLetterStore(db)
  const handler = changeBatchHandler(
    { stores: { db, eventStore: flaky, rawEventStore: flaky, deadLetters, personalDataKeys: await openSqlPersonalDataKeys(db) }, metrics: createMetrics(), logger: createLogger('silent'), now, tenantSettingsOf: () => settings, tuning: {} },
    { onError: () => {}, stopped: () => false },
  )
  await handler.handle([change('acme', employee('emp-1'), 0), change('acme', employee('emp-2'), 1)])
  t.same(await deadLetters.list(), [], 'nothing dead-lettered')
  t.ok((await rawEventStore.readStream(employeeStreamName('acme', 'emp-2'))).length > 0, 'stored once the store was back')
})

t.test('an event that keeps failing at the projector is skipped and kept with the reason; the other tenants are projected', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlEventStore(db, { pollIntervalMs: 10 })
  const views = await openSqlViewStore(db)
  // The view database cannot hold one user's document: every write including it fails.
  const failing = {
    ...views,
    transaction: <T>(fn: Parameters<typeof views.transaction<T>>[0]) =>
      views.transaction((tx) =>
        fn({
          ...tx,
          upsertUsers: async (tenant, rows) => {
            if (tenant === 'acme' && rows.some((r) => r.user.externalId === 'emp-2')) throw new Error('unsupported Unicode escape sequence')
            return tx.upsertUsers(tenant, rows)
          },
        }),
      ),
  }
  let last = 0n
  for (const [tenant, id] of [['acme', 'emp-1'], ['acme', 'emp-2'], ['globex', 'emp-1'], ['acme', 'emp-3']]) {
    const events = decideEmployeeEvents(null, employee(id), { tenant, now: now(), invitePolicy: { mode: 'manual' }, timeZone: 'UTC' })
    last = (await store.appendToStream(employeeStreamName(tenant, id), events.map((e) => ({ id: e.id, type: e.type, data: e.data as Record<string, unknown> })))).position
  }
  const skipped: string[] = []
  const projector = new Projector({ store, views: failing, onSkipped: ({ streamName }) => skipped.push(streamName) })
  await projector.start()
  t.teardown(() => projector.stop())
  await projector.caughtUp(last)

  const kept = await views.skippedEvents(VIEWS_CHECKPOINT)
  t.ok(kept.length >= 1, `the failing stream's event(s) kept (${kept.length})`)
  t.ok(kept.every((e) => e.streamName === employeeStreamName('acme', 'emp-2')), 'only the failing stream’s events')
  t.match(kept[0].reason, /kept failing alone after repeated tries: unsupported Unicode escape sequence/)
  t.same(skipped, kept.map((e) => e.streamName), 'each skip reported (metrics, logs)')
  t.equal(await views.checkpoint(VIEWS_CHECKPOINT), last, 'the checkpoint moved past it')
  t.ok(await views.getUser('acme', 'emp-1'), 'acme/emp-1 projected')
  t.ok(await views.getUser('acme', 'emp-3'), 'acme/emp-3, after the poison, projected')
  t.ok(await views.getUser('globex', 'emp-1'), 'the other tenant projected')
  t.equal(await views.getUser('acme', 'emp-2'), null, 'the poison user is not in the view')
  t.equal(projector.error, null, 'the projector is well again')
})
