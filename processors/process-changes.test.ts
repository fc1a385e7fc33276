import t, { type Test } from 'tap'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlEventStore } from './eventstore/sql.ts'
import { openSqlDeadLetterStore } from '../producers/changelog/sql-dead-letters.ts'
import { processChanges, type ProcessorDeps } from './process-changes.ts'
import type { ConsumedChange } from '../producers/changelog/port.ts'
import type { EventStore } from './eventstore/port.ts'
import { WrongExpectedRevisionError } from './eventstore/port.ts'
import { employeeStreamName } from '../schemas/streams.ts'

const now = () => new Date('2026-03-01T12:00:00.000Z')

function change(record: Record<string, unknown>, opts: { tenant?: string; resource?: string; offset?: number } = {}): ConsumedChange {
  const envelope = {
    tenant: opts.tenant ?? 'acme',
    integrationId: 'acme-int',
    resource: opts.resource ?? 'employees',
    fetchedAt: '2026-03-01T11:59:00.000Z',
    pollId: 'poll-1',
    record,
  }
  const raw = Buffer.from(JSON.stringify(envelope))
  return { resource: 'employees', key: `acme:${String(record.id)}`, partition: 0, offset: String(opts.offset ?? 0), value: envelope, raw }
}

const employee = (changedAt: string, fields: Record<string, unknown> = {}) => ({
  id: 'emp-1',
  first_name: 'Grace',
  last_name: 'Hopper',
  job_title: 'Admiral',
  work_email: 'grace@example.test',
  start_date: '2020-01-01T00:00:00.000Z',
  employment_status: 'ACTIVE',
  changed_at: changedAt,
  remote_deleted_at: null,
  ...fields,
})

async function setup(t: Test) {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlEventStore(db)
  const deadLetters = await openSqlDeadLetterStore(db)
  const deps: ProcessorDeps = { store, deadLetters, now, invitePolicyOf: (tenant) => (tenant === 'acme' ? { mode: 'manual' } : undefined) }
  return { store, deadLetters, deps }
}

t.test('a record is folded into its stream once, however often it is delivered', async (t) => {
  const { store, deps } = await setup(t)
  const first = change(employee('2026-03-01T10:00:00.000Z'))
  const outcomes = await processChanges([first, first], deps)
  t.equal(outcomes[0].kind, 'appended')
  t.same(outcomes[1], { kind: 'unchanged' }, 'the duplicate appends nothing')
  const events = await store.readStream(employeeStreamName('acme', 'emp-1'))
  t.equal(events[0].type, 'EmployeeImported')
  t.equal(events[0].metadata.pollId, 'poll-1', 'metadata carries the poll id')
  t.equal(events[0].metadata.changedAt, '2026-03-01T10:00:00.000Z')
})

t.test('a newer record appends only what changed; an older one nothing', async (t) => {
  const { store, deps } = await setup(t)
  await processChanges([change(employee('2026-03-01T10:00:00.000Z'))], deps)
  const before = (await store.readStream(employeeStreamName('acme', 'emp-1'))).length
  await processChanges([change(employee('2026-03-01T11:00:00.000Z', { job_title: 'Rear Admiral' }))], deps)
  const after = await store.readStream(employeeStreamName('acme', 'emp-1'))
  t.same(after.slice(before).map((e) => e.type), ['EmployeeJobTitleChanged'])
  const stale = await processChanges([change(employee('2026-03-01T09:00:00.000Z', { job_title: 'Ensign' }))], deps)
  t.same(stale, [{ kind: 'unchanged' }], 'an older record is ignored')
})

t.test('invalid records are dead-lettered with the reason and the original bytes', async (t) => {
  const { store, deadLetters, deps } = await setup(t)
  const bad = [
    change({ id: 'emp-2', changed_at: 'yesterday' }),
    change(employee('2026-03-01T10:00:00.000Z', { employment_status: 42 })),
    change(employee('2026-03-01T10:00:00.000Z'), { tenant: 'stranger' }),
    { ...change(employee('2026-03-01T10:00:00.000Z')), value: undefined, decodeError: 'unknown magic byte' },
  ]
  const outcomes = await processChanges(bad, deps)
  t.same(outcomes.map((o) => o.kind), ['dead-lettered', 'dead-lettered', 'dead-lettered', 'dead-lettered'])
  const letters = await deadLetters.list()
  t.equal(letters.length, 4)
  t.match(letters.map((l) => l.reason).join('\n'), /changed_at/)
  t.match(letters.map((l) => l.reason).join('\n'), /employment_status/)
  t.match(letters.map((l) => l.reason).join('\n'), /unknown tenant "stranger"/)
  t.match(letters.map((l) => l.reason).join('\n'), /unknown magic byte/)
  t.same(letters.find((l) => /changed_at/.test(l.reason))!.raw, bad[0].raw, 'original bytes kept')
  t.equal((await store.readAll()).length, 0, 'nothing appended for bad records')
})

t.test('a concurrency conflict reloads and decides again', async (t) => {
  const { store, deps } = await setup(t)
  let conflicts = 1
  const racing: EventStore = {
    ...store,
    appendToStream: async (stream, events, options) => {
      if (conflicts-- > 0) {
        // Someone else appends the same record first.
        await store.appendToStream(stream, events, options)
        throw new WrongExpectedRevisionError(stream, options?.expectedRevision ?? 'any', 0n)
      }
      return store.appendToStream(stream, events, options)
    },
  }
  const outcomes = await processChanges([change(employee('2026-03-01T10:00:00.000Z'))], { ...deps, store: racing })
  t.same(outcomes, [{ kind: 'unchanged' }], 'after reloading, the record is already there')
  const events = await store.readStream(employeeStreamName('acme', 'emp-1'))
  t.equal(events.filter((e) => e.type === 'EmployeeImported').length, 1, 'imported exactly once')
})
