import t, { type Test } from 'tap'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlEventStore } from './eventstore/sql.ts'
import { openSqlDeadLetterStore } from '../producers/changelog/sql-dead-letters.ts'
import { processChanges, type ProcessorDeps } from './process-changes.ts'
import type { ConsumedChange } from '../producers/changelog/port.ts'
import type { EventStore } from './eventstore/port.ts'
import { WrongExpectedRevisionError } from './eventstore/port.ts'
import { appendEach } from './eventstore/append-each.ts'
import { employeeStreamName } from '../schemas/streams.ts'
import { StreamStateCache } from './stream-state-cache.ts'
import { settingsWith } from '../test/support/tenant-settings.ts'

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
  const deps: ProcessorDeps = { store, deadLetters, now, tenantSettingsOf: (tenant) => (tenant === 'acme' ? settingsWith({ mode: 'manual' }) : undefined) }
  return { store, deadLetters, deps }
}


/** The store with every append going through `append` (`appendToStreams` too, stream by stream). */
const interceptAppends = (store: EventStore, append: EventStore['appendToStream']): EventStore => ({
  ...store,
  appendToStream: append,
  appendToStreams: (appends) => appendEach((a) => append(a.streamName, a.events, { expectedRevision: a.expectedRevision }), appends),
})

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
  const racing = interceptAppends(store, async (stream, events, options) => {
    if (conflicts-- > 0) {
      // Someone else appends the same record first.
      await store.appendToStream(stream, events, options)
      throw new WrongExpectedRevisionError(stream, options?.expectedRevision ?? 'any', 0n)
    }
    return store.appendToStream(stream, events, options)
  })
  const outcomes = await processChanges([change(employee('2026-03-01T10:00:00.000Z'))], { ...deps, store: racing })
  t.same(outcomes, [{ kind: 'unchanged' }], 'after reloading, the record is already there')
  const events = await store.readStream(employeeStreamName('acme', 'emp-1'))
  t.equal(events.filter((e) => e.type === 'EmployeeImported').length, 1, 'imported exactly once')
})

// ---- batching, the stream-state cache and concurrency ---------------------------------------------

const person = (id: string, changedAt: string, fields: Record<string, unknown> = {}) => employee(changedAt, { id, work_email: `${id}@example.test`, ...fields })
const team = (id: string, changedAt: string, name: string) => ({ id, name, type: 'TEAM', parent_id: null, changed_at: changedAt, remote_deleted_at: null })

/** A batch with repeated keys, interleaved: several versions of a few employees and a team. */
function interleavedBatch(): ConsumedChange[] {
  const records: Array<{ record: Record<string, unknown>; resource?: string }> = []
  for (let v = 0; v < 4; v++) {
    for (const id of ['emp-a', 'emp-b', 'emp-c']) {
      records.push({ record: person(id, `2026-03-01T1${v}:00:00.000Z`, { job_title: `${id} title v${v}`, last_name: v >= 2 ? 'Renamed' : 'Hopper' }) })
    }
    records.push({ record: team('team-1', `2026-03-01T1${v}:00:00.000Z`, `Team v${v}`), resource: 'groups' })
  }
  // A duplicate and an older record of one key, late in the batch.
  records.push({ record: person('emp-a', '2026-03-01T13:00:00.000Z', { job_title: 'emp-a title v3', last_name: 'Renamed' }) })
  records.push({ record: person('emp-b', '2026-03-01T10:30:00.000Z', { job_title: 'stale' }) })
  return records.map(({ record, resource }, i) => ({ ...change(record, { resource, offset: i }), key: `acme:${String(record.id)}` }))
}

const streamsOf = async (store: EventStore) =>
  (await store.readAll()).map((e) => ({ stream: e.streamName, revision: e.revision, id: e.id, type: e.type, data: e.data, metadata: e.metadata }))
    .sort((a, b) => (a.stream === b.stream ? Number(a.revision - b.revision) : a.stream < b.stream ? -1 : 1))

t.test('a batch with repeated keys ends in the same streams as processing it record by record', async (t) => {
  const batch = interleavedBatch()
  const oneByOne = await setup(t)
  const expectedOutcomes = []
  for (const c of batch) expectedOutcomes.push(...(await processChanges([c], { ...oneByOne.deps, concurrency: 1 })))
  const batched = await setup(t)
  let appends = 0
  let calls = 0
  const counting: EventStore = {
    ...batched.store,
    appendToStream: (s, e, o) => (appends++, batched.store.appendToStream(s, e, o)),
    appendToStreams: (a) => ((calls++, (appends += a.length)), batched.store.appendToStreams(a)),
  }
  const outcomes = await processChanges(batch, { ...batched.deps, store: counting, cache: new StreamStateCache(), concurrency: 8 })
  t.same(outcomes.map((o) => o.kind), expectedOutcomes.map((o) => o.kind), 'one outcome per record, in input order, as one by one')
  t.same(await streamsOf(batched.store), await streamsOf(oneByOne.store), 'same streams: same ids, types, data and metadata')
  t.equal(appends, 4, 'one append per stream of the batch')
  t.equal(calls, 1, 'all of them in one appendToStreams call')
  t.ok((await streamsOf(batched.store)).length > 8, 'the fixture does append several events per stream')
})

t.test('records of one key stay in order; a batch\'s streams are read in one call', async (t) => {
  const { store, deps } = await setup(t)
  // Stream reads and appends that finish in a shuffled order, to give reordering every chance to show.
  const shuffled = async <T>(s: string, work: () => Promise<T>): Promise<T> => {
    await new Promise((r) => setTimeout(r, (s.length * 7) % 5))
    return work()
  }
  const reads: string[][] = []
  let singleReads = 0
  const slow: EventStore = {
    ...interceptAppends(store, (s, e, o) => shuffled(s, () => store.appendToStream(s, e, o))),
    readStream: (s, o) => (singleReads++, store.readStream(s, o)),
    readStreams: (names) => (reads.push(names), store.readStreams(names)),
  }
  const batch: ConsumedChange[] = []
  for (let v = 0; v < 5; v++) for (let k = 0; k < 6; k++) batch.push(change(person(`emp-${k}`, `2026-03-01T1${v}:00:00.000Z`, { job_title: `v${v}` }), { offset: batch.length }))
  const outcomes = await processChanges(batch, { ...deps, store: slow, cache: new StreamStateCache(), concurrency: 3 })
  t.equal(outcomes.length, batch.length)
  t.ok(outcomes.every((o) => o.kind === 'appended'), 'every version changes the title')
  t.same(reads.map((names) => names.length), [6], 'the six streams were read in one readStreams call')
  t.equal(singleReads, 0, 'and not one by one')
  for (let k = 0; k < 6; k++) {
    const events = await store.readStream(employeeStreamName('acme', `emp-${k}`))
    const titles = events.filter((e) => e.type === 'EmployeeJobTitleChanged').map((e) => e.data.job_title)
    t.same(titles, ['v1', 'v2', 'v3', 'v4'], `emp-${k}: title changes in record order`)
    t.same(events.map((e) => e.metadata.source && (e.metadata.source as { offset: string }).offset).filter((o, i, all) => all.indexOf(o) === i), [0, 1, 2, 3, 4].map((v) => String(v * 6 + k)), 'events carry their own record offsets, in order')
  }
})

t.test('a stale cache entry costs a conflict and a reload, never a wrong append', async (t) => {
  const { store, deps } = await setup(t)
  const cache = new StreamStateCache()
  let conflicts = 0
  const watching = interceptAppends(store, async (s, e, o) => {
    try {
      return await store.appendToStream(s, e, o)
    } catch (err) {
      if (err instanceof WrongExpectedRevisionError) conflicts++
      throw err
    }
  })
  const mine = { ...deps, store: watching, cache }
  await processChanges([change(person('emp-1', '2026-03-01T10:00:00.000Z'))], mine)
  t.equal(cache.size, 1, 'the folded state is cached after the append')
  // Another processor (e.g. after a rebalance) appends a newer version behind this one's back.
  await processChanges([change(person('emp-1', '2026-03-01T11:00:00.000Z', { job_title: 'Commodore' }))], deps)
  // This processor then sees a newer record still: its cached state is one revision behind.
  const outcomes = await processChanges([change(person('emp-1', '2026-03-01T12:00:00.000Z', { job_title: 'Rear Admiral', last_name: 'Murray Hopper' }))], mine)
  t.equal(conflicts, 1, 'the stale expected revision was refused once')
  t.equal(outcomes[0].kind, 'appended', 'then decided again on the reloaded stream')
  const events = await store.readStream(employeeStreamName('acme', 'emp-1'))
  t.same(events.filter((e) => e.type === 'EmployeeJobTitleChanged').map((e) => e.data.job_title), ['Commodore', 'Rear Admiral'], 'decided against the real stream, not the stale state')
  // A redelivery of the other processor's record: the stale-looking cache is now current.
  const again = await processChanges([change(person('emp-1', '2026-03-01T11:00:00.000Z', { job_title: 'Commodore' }))], mine)
  t.same(again, [{ kind: 'unchanged' }])
  t.equal((await store.readStream(employeeStreamName('acme', 'emp-1'))).length, events.length, 'nothing appended twice')
})

t.test('"unchanged" decided on a cached state is confirmed against the stream first', async (t) => {
  const { store, deps } = await setup(t)
  const cache = new StreamStateCache()
  await processChanges([change(person('emp-1', '2026-03-01T10:00:00.000Z'))], { ...deps, cache })
  // Someone else appends a newer version; the cache still holds the old revision.
  await processChanges([change(person('emp-1', '2026-03-01T11:00:00.000Z', { job_title: 'Commodore' }))], deps)
  const stale = cache.get(employeeStreamName('acme', 'emp-1'))!
  let fullReads = 0
  const reading: EventStore = {
    ...store,
    readStream: (s, o) => (o?.maxCount === undefined && fullReads++, store.readStream(s, o)),
    readStreams: (names) => ((fullReads += names.length), store.readStreams(names)),
  }
  const outcomes = await processChanges([change(person('emp-1', '2026-03-01T10:00:00.000Z'))], { ...deps, store: reading, cache })
  t.same(outcomes, [{ kind: 'unchanged' }])
  t.equal(fullReads, 1, 'the revision check noticed the stale entry and the stream was reloaded')
  t.not(cache.get(employeeStreamName('acme', 'emp-1'))!.revision, stale.revision, 'the cache now holds the current revision')
})

t.test('a failing stream fails the batch after the others settled, and a retry completes it', async (t) => {
  const { store, deps } = await setup(t)
  let failOnce = true
  const flaky = interceptAppends(store, async (s, e, o) => {
    if (s.endsWith('emp-2') && failOnce) {
      failOnce = false
      throw new Error('store unavailable')
    }
    return store.appendToStream(s, e, o)
  })
  const batch = ['emp-1', 'emp-2', 'emp-3'].map((id, i) => change(person(id, '2026-03-01T10:00:00.000Z'), { offset: i }))
  const cache = new StreamStateCache()
  await t.rejects(processChanges(batch, { ...deps, store: flaky, cache }), /store unavailable/)
  const outcomes = await processChanges(batch, { ...deps, store: flaky, cache })
  t.same(outcomes.map((o) => o.kind), ['unchanged', 'appended', 'unchanged'], 'the redelivered batch appends only what was missing')
  t.equal((await store.readAll()).filter((e) => e.type === 'EmployeeImported').length, 3)
})

t.test('a state evicted from the cache (by count or by bytes) is read again and decided as if never cached', async (t) => {
  const { store, deps } = await setup(t)
  // The bytes of one such state, so that the byte bound below keeps one state but not two.
  const probe = new StreamStateCache()
  await processChanges([change(person('probe-a', '2026-03-01T10:00:00.000Z'))], { ...deps, cache: probe })
  const oneState = probe.bytes
  // What the same records append with no cache at all: the evicting caches must append exactly that.
  for (const [at, fields] of [['2026-03-01T10:00:00.000Z', {}], ['2026-03-01T10:00:00.000Z', {}], ['2026-03-01T11:00:00.000Z', { job_title: 'Commodore' }]] as const) {
    await processChanges([change(person('uncached-a', at, fields))], deps)
  }
  const expected = (await store.readStream(employeeStreamName('acme', 'uncached-a'))).map((e) => e.type)
  t.equal(expected.filter((type) => type === 'EmployeeJobTitleChanged').length, 1)
  for (const [label, cache] of [['count', new StreamStateCache(1)], ['bytes', new StreamStateCache(10, Math.floor(oneState * 1.5))]] as const) {
    const tenantStream = (id: string) => employeeStreamName('acme', `${label}-${id}`)
    let streamsRead = 0
    const reading: EventStore = { ...store, readStreams: (names) => ((streamsRead += names.length), store.readStreams(names)) }
    const mine = { ...deps, store: reading, cache }
    await processChanges([change(person(`${label}-a`, '2026-03-01T10:00:00.000Z'))], mine)
    await processChanges([change(person(`${label}-b`, '2026-03-01T10:00:00.000Z'))], mine)
    t.equal(cache.size, 1, `${label}: one state kept`)
    t.ok(cache.get(tenantStream('b')), `${label}: the most recent one`)
    t.equal(cache.get(tenantStream('a')), undefined, `${label}: a's state was evicted`)
    streamsRead = 0
    t.same(await processChanges([change(person(`${label}-a`, '2026-03-01T10:00:00.000Z'))], mine), [{ kind: 'unchanged' }], `${label}: a redelivery is still recognised`)
    t.equal(streamsRead, 1, `${label}: because a's stream was read again`)
    const newer = await processChanges([change(person(`${label}-a`, '2026-03-01T11:00:00.000Z', { job_title: 'Commodore' }))], mine)
    t.same(newer.map((o) => o.kind), ['appended'], `${label}: a newer version appends`)
    const events = await store.readStream(tenantStream('a'))
    t.same(events.map((e) => e.type), expected, `${label}: the same events as without a cache, once each`)
  }
})
