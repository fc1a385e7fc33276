// The event-store contract: one suite, run by every adapter's test file (SQL on PGlite and on
// PostgreSQL, EventStoreDB on its test double or a real server). Each subtest opens a store and
// uses stream names with a fresh random prefix, so the suite also passes on a store that already
// holds events (a shared server) — assertions only look at this subtest's streams.
import type { Test } from 'tap'
import { randomBytes, randomUUID } from 'node:crypto'
import {
  WrongExpectedRevisionError,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
} from '../../processors/eventstore/port.ts'
import { streamInShard, type TenantShardFilter } from '../../processors/eventstore/tenant-shard.ts'
import { settle, waitFor } from '../support/wait-for.ts'

export type OpenEventStore = () => Promise<{ store: EventStore; cleanup: () => Promise<void> }>

const freshPrefix = () => `contract${randomBytes(5).toString('hex')}-`

/** Two fresh prefixes with four appends interleaved between their streams (pa1 ×2, pb1, pa2, pb1). */
async function interleaved(store: EventStore): Promise<{ pa: string; pb: string }> {
  const pa = freshPrefix()
  const pb = freshPrefix()
  await store.appendToStream(`${pa}1`, events(2))
  await store.appendToStream(`${pb}1`, events(1))
  await store.appendToStream(`${pa}2`, events(1))
  await store.appendToStream(`${pb}1`, events(1))
  return { pa, pb }
}

/**
 * Six fresh tenants' streams (employee and team streams, appends interleaved between tenants), then
 * one event of a stream that is no tenant's, last: the prefixes select exactly these streams.
 */
async function tenantsLog(store: EventStore): Promise<{ prefixes: string[]; all: RecordedEvent[] }> {
  const p = freshPrefix().slice(0, -1)
  const prefixes = [`employee-${p}`, `team-${p}`, `${p}-`]
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 6; i++) await store.appendToStream(`${i % 2 ? 'team' : 'employee'}-${p}t${i}_${round}`, events(1 + (i % 2)))
  }
  await store.appendToStream(`${p}-foreign`, events(1))
  return { prefixes, all: await store.readAll({ streamPrefixes: prefixes }) }
}

const ids = (list: RecordedEvent[]) => list.map((e) => e.id)

const newEvent = (type = 'SomethingHappened', data: Record<string, unknown> = {}, metadata?: Record<string, unknown>): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  ...(metadata ? { metadata } : {}),
})

const events = (n: number, type = 'SomethingHappened') => Array.from({ length: n }, (_, i) => newEvent(type, { n: i }))

async function expectWrongRevision(t: Test, promise: Promise<unknown>, streamName: string, actual: bigint | 'no_stream', what: string) {
  try {
    await promise
    t.fail(`${what}: expected WrongExpectedRevisionError, the append succeeded`)
  } catch (err) {
    t.ok(err instanceof WrongExpectedRevisionError, `${what}: a WrongExpectedRevisionError`)
    if (err instanceof WrongExpectedRevisionError) {
      t.equal(err.streamName, streamName, `${what}: names the stream`)
      t.equal(err.actual, actual, `${what}: reports the actual revision`)
      t.equal(err.retriable, true, `${what}: says a retry (after reloading) can help`)
    }
  }
}

export function runEventStoreContract(t: Test, open: OpenEventStore): void {
  // Opens a store for one subtest and closes it when the subtest ends.
  const storeFor = async (t: Test): Promise<EventStore> => {
    const { store, cleanup } = await open()
    t.teardown(cleanup)
    return store
  }

  t.test('revisions start at 0 and global positions increase across streams', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    const first = await store.appendToStream(`${p}a`, events(3), { expectedRevision: 'no_stream' })
    t.equal(first.nextExpectedRevision, 2n)
    const a = await store.readStream(`${p}a`)
    t.same(a.map((e) => e.revision), [0n, 1n, 2n])
    t.equal(first.position, a[2].position, 'the result carries the position of the last event written')
    t.ok(a[0].position < a[1].position && a[1].position < a[2].position, 'positions increase within a stream')

    const second = await store.appendToStream(`${p}b`, events(2))
    t.equal(second.nextExpectedRevision, 1n, 'another stream starts at revision 0 again')
    const third = await store.appendToStream(`${p}a`, events(1))
    t.equal(third.nextExpectedRevision, 3n)
    t.ok(first.position < second.position && second.position < third.position, 'positions increase across streams in append order')
    for (const e of a) {
      t.equal(e.streamName, `${p}a`)
      t.ok(e.recordedAt instanceof Date && !Number.isNaN(e.recordedAt.getTime()), 'recordedAt is a date')
    }
  })

  t.test("expected revision 'any' appends whether or not the stream exists", async (t) => {
    const store = await storeFor(t)
    const s = `${freshPrefix()}s`
    t.equal((await store.appendToStream(s, events(1), { expectedRevision: 'any' })).nextExpectedRevision, 0n)
    t.equal((await store.appendToStream(s, events(2), { expectedRevision: 'any' })).nextExpectedRevision, 2n)
    t.equal((await store.appendToStream(s, events(1))).nextExpectedRevision, 3n, "'any' is the default")
    t.equal((await store.readStream(s)).length, 4)
  })

  t.test("expected revision 'no_stream'", async (t) => {
    const store = await storeFor(t)
    const s = `${freshPrefix()}s`
    t.equal((await store.appendToStream(s, events(1), { expectedRevision: 'no_stream' })).nextExpectedRevision, 0n)
    await expectWrongRevision(t, store.appendToStream(s, events(1), { expectedRevision: 'no_stream' }), s, 0n, 'no_stream on an existing stream')
    t.equal((await store.readStream(s)).length, 1, 'the rejected append wrote nothing')
  })

  t.test("expected revision 'stream_exists'", async (t) => {
    const store = await storeFor(t)
    const s = `${freshPrefix()}s`
    await expectWrongRevision(t, store.appendToStream(s, events(1), { expectedRevision: 'stream_exists' }), s, 'no_stream', 'stream_exists on a missing stream')
    t.same(await store.readStream(s), [], 'the rejected append created no stream')
    await store.appendToStream(s, events(1))
    t.equal((await store.appendToStream(s, events(2), { expectedRevision: 'stream_exists' })).nextExpectedRevision, 2n)
  })

  t.test('expected revision as an exact revision', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    const s = `${p}s`
    await store.appendToStream(s, events(1), { expectedRevision: 'no_stream' })
    t.equal((await store.appendToStream(s, events(1), { expectedRevision: 0n })).nextExpectedRevision, 1n, 'the matching revision succeeds')
    await expectWrongRevision(t, store.appendToStream(s, events(1), { expectedRevision: 0n }), s, 1n, 'a stale revision')
    await expectWrongRevision(t, store.appendToStream(s, events(1), { expectedRevision: 5n }), s, 1n, 'a revision from the future')
    await expectWrongRevision(t, store.appendToStream(`${p}missing`, events(1), { expectedRevision: 0n }), `${p}missing`, 'no_stream', 'a revision on a missing stream')
    t.same((await store.readStream(s)).map((e) => e.revision), [0n, 1n], 'rejected appends wrote nothing')
  })

  t.test('re-appending the same event ids is an idempotent no-op', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()

    const s = `${p}s`
    const batch1 = events(2)
    const r1 = await store.appendToStream(s, batch1, { expectedRevision: 'no_stream' })
    const again = await store.appendToStream(s, batch1, { expectedRevision: 'no_stream' })
    t.equal(again.nextExpectedRevision, r1.nextExpectedRevision, "retry with the first append's 'no_stream' succeeds")
    const batch2 = events(2)
    const r2 = await store.appendToStream(s, batch2, { expectedRevision: 1n })
    t.equal(r2.nextExpectedRevision, 3n)
    const again2 = await store.appendToStream(s, batch2, { expectedRevision: 1n })
    t.equal(again2.nextExpectedRevision, 3n, "retry with the first append's exact revision succeeds")
    t.same((await store.readStream(s)).map((e) => e.id), [...batch1, ...batch2].map((e) => e.id), 'no duplicates were written')

    const u = `${p}u`
    const batch3 = events(3)
    await store.appendToStream(u, batch3, { expectedRevision: 'any' })
    const again3 = await store.appendToStream(u, batch3, { expectedRevision: 'any' })
    t.equal(again3.nextExpectedRevision, 2n, "retry with 'any' succeeds")
    t.same((await store.readStream(u)).map((e) => e.id), batch3.map((e) => e.id), "no duplicates with 'any'")
  })

  t.test('readStream: directions, fromRevision, maxCount, missing streams', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    const s = `${p}s`
    const written = events(5)
    await store.appendToStream(s, written)
    const revs = (list: RecordedEvent[]) => list.map((e) => e.revision)
    t.same(revs(await store.readStream(s)), [0n, 1n, 2n, 3n, 4n], 'forwards by default')
    t.same((await store.readStream(s)).map((e) => e.id), written.map((e) => e.id), 'in append order with their ids')
    t.same(revs(await store.readStream(s, { direction: 'backwards' })), [4n, 3n, 2n, 1n, 0n], 'backwards from the end')
    t.same(revs(await store.readStream(s, { fromRevision: 2n })), [2n, 3n, 4n], 'forwards from a revision (inclusive)')
    t.same(revs(await store.readStream(s, { direction: 'backwards', fromRevision: 2n })), [2n, 1n, 0n], 'backwards from a revision (inclusive)')
    t.same(revs(await store.readStream(s, { maxCount: 2 })), [0n, 1n], 'maxCount forwards')
    t.same(revs(await store.readStream(s, { direction: 'backwards', maxCount: 2 })), [4n, 3n], 'maxCount backwards (the latest events)')
    t.same(revs(await store.readStream(s, { fromRevision: 1n, maxCount: 2 })), [1n, 2n], 'fromRevision with maxCount')
    t.same(await store.readStream(`${p}missing`), [], 'a missing stream reads as an empty list')
    t.same(await store.readStream(s, { fromRevision: 9n }), [], 'reading past the end gives an empty list')
  })

  t.test('readStreams: several whole streams in one call, in the order named', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    const a = events(3)
    const b = events(2)
    await store.appendToStream(`${p}a`, a)
    await store.appendToStream(`${p}b`, b)
    await store.appendToStream(`${p}a`, events(1, 'Later'))
    const [readB, missing, readA] = await store.readStreams([`${p}b`, `${p}missing`, `${p}a`])
    t.same(readB.map((e) => e.id), b.map((e) => e.id), 'each stream in append order with its ids')
    t.same(missing, [], 'a missing stream reads as an empty list')
    t.same(readA.map((e) => e.revision), [0n, 1n, 2n, 3n], 'interleaved appends of another stream do not mix in')
    t.same(readA.map((e) => e.type), [...a.map((e) => e.type), 'Later'])
    t.same(readA, await store.readStream(`${p}a`), 'the same events as readStream, field for field')
    t.same(await store.readStreams([]), [], 'an empty call')
    await t.rejects(store.readStreams([`${p}a`, `${p}a`]), RangeError, 'a stream named twice is refused')
  })

  t.test('readAll: global order, after a position, stream prefix filter', async (t) => {
    const store = await storeFor(t)
    const { pa, pb } = await interleaved(store)
    await store.appendToStream(`${pa}1`, events(1))
    const ours = (list: RecordedEvent[]) => list.filter((e) => e.streamName.startsWith(pa) || e.streamName.startsWith(pb))
    const both = await store.readAll({ streamPrefixes: [pa, pb] })
    t.equal(both.length, 6, 'two prefixes select both sets of streams')
    t.same(both.map((e) => e.streamName), [`${pa}1`, `${pa}1`, `${pb}1`, `${pa}2`, `${pb}1`, `${pa}1`], 'in global (append) order')
    for (let i = 1; i < both.length; i++) t.ok(both[i - 1].position < both[i].position, 'positions strictly increase')

    const onlyA = await store.readAll({ streamPrefixes: [pa] })
    t.same(onlyA.map((e) => e.id), both.filter((e) => e.streamName.startsWith(pa)).map((e) => e.id), 'one prefix selects only its streams')

    const afterSecond = await store.readAll({ after: both[1].position, streamPrefixes: [pa, pb] })
    t.same(afterSecond.map((e) => e.id), both.slice(2).map((e) => e.id), '`after` is exclusive')
    const limited = await store.readAll({ after: both[1].position, streamPrefixes: [pa, pb], maxCount: 2 })
    t.same(limited.map((e) => e.id), both.slice(2, 4).map((e) => e.id), 'maxCount limits the page')

    const unfiltered = await store.readAll({ after: both[0].position })
    t.same(ours(unfiltered).map((e) => e.id), both.slice(1).map((e) => e.id), 'without a filter, every stream is read')
    t.same(await store.readAll({ after: both[5].position, streamPrefixes: [pa, pb] }), [], 'nothing after the last event')

    // withoutData: the same events, in the same order, with the same coordinates; payloads optional.
    const bare = await store.readAll({ streamPrefixes: [pa, pb], withoutData: true })
    const coordinates = (list: RecordedEvent[]) => list.map((e) => [e.position, e.streamName, e.revision, e.id, e.type])
    t.same(coordinates(bare), coordinates(both), 'withoutData: same positions, streams, revisions, ids and types')
    const bareAfter = await store.readAll({ after: both[1].position, streamPrefixes: [pa, pb], maxCount: 2, withoutData: true })
    t.same(coordinates(bareAfter), coordinates(both.slice(2, 4)), 'withoutData: `after` and maxCount as without it')
    for (const e of bare) t.ok(e.data !== undefined && e.metadata !== undefined, 'withoutData: data and metadata are objects (perhaps empty)')
  })

  t.test("readAll with a tenant shard: that shard's tenants' events, and the log's last event to end on", async (t) => {
    const store = await storeFor(t)
    const { prefixes, all } = await tenantsLog(store)
    const last = all[all.length - 1]
    const count = 3
    const union: RecordedEvent[] = []
    for (let index = 0; index < count; index++) {
      const shard: TenantShardFilter = { index, count }
      const owned = (e: RecordedEvent) => streamInShard(shard, e.streamName)
      const expected = all.filter(owned)
      union.push(...expected)
      const read = await store.readAll({ streamPrefixes: prefixes, tenantShard: shard })
      t.same(ids(read.filter(owned)), ids(expected), `shard ${index}/${count}: its tenants' events (${expected.length}), in order`)
      t.same(ids(read.filter((e) => !owned(e))), [last.id], `shard ${index}/${count}: of the others' only the last event, a stream of no tenant`)
      const paged: RecordedEvent[] = []
      for (let after: bigint | undefined; ; ) {
        const page = await store.readAll({ after, maxCount: 2, streamPrefixes: prefixes, tenantShard: shard })
        if (page.length === 0) break
        t.ok(page.length <= 2, 'a page holds at most maxCount events, the last event included')
        paged.push(...page)
        after = page[page.length - 1].position
      }
      t.same(ids(paged.filter(owned)), ids(expected), `shard ${index}/${count}: paged, the same events`)
      t.equal(paged[paged.length - 1].position, last.position, `shard ${index}/${count}: paging ends at the log's last position`)
    }
    t.same(ids(union).sort(), ids(all.filter((e) => e.id !== last.id)).sort(), "the shards' tenants' events together are every tenant's event once")
    const one = await store.readAll({ streamPrefixes: prefixes, tenantShard: { index: 0, count: 1 } })
    t.same(ids(one), ids(all), 'one shard of one: every tenant event (and the last one)')
  })

  t.test("subscribeToAll with a tenant shard: its tenants' events, live too, and the position reaches the end", async (t) => {
    const store = await storeFor(t)
    const { prefixes, all } = await tenantsLog(store)
    const count = 2
    // The shard owning the most of these tenants' events (there is one with some).
    const shard = [0, 1].map((index) => ({ index, count })).sort((a, b) => all.filter((e) => streamInShard(b, e.streamName)).length - all.filter((e) => streamInShard(a, e.streamName)).length)[0]
    const owned = (e: RecordedEvent) => streamInShard(shard, e.streamName)
    const seen: RecordedEvent[] = []
    const sub = store.subscribeToAll({ streamPrefixes: prefixes, tenantShard: shard }, async (e) => {
      seen.push(e)
    })
    t.teardown(() => sub.close())
    const at = (position: bigint) => () => seen.length > 0 && seen[seen.length - 1].position >= position
    await waitFor("the log's last event", at(all[all.length - 1].position))
    const ownStream = all.find(owned)!.streamName
    const [otherPrefix] = prefixes.slice(-1)
    await store.appendToStream(ownStream, events(1))
    const end = await store.appendToStream(`${otherPrefix}foreign`, events(1))
    await waitFor('the live events', at(end.position))
    const now = await store.readAll({ streamPrefixes: prefixes })
    t.same(ids(seen.filter(owned)), ids(now.filter(owned)), 'every event of its tenants exactly once, in order')
    for (let i = 1; i < seen.length; i++) t.ok(seen[i - 1].position < seen[i].position, 'positions strictly increase')
    await sub.close()
  })

  t.test('readAllBackwards: newest first, before a position, prefix filter, the last event', async (t) => {
    const store = await storeFor(t)
    const { pa, pb } = await interleaved(store)
    const forwards = await store.readAll({ streamPrefixes: [pa, pb] })
    const backwards = await store.readAllBackwards({ streamPrefixes: [pa, pb] })
    t.same(backwards.map((e) => e.id), forwards.map((e) => e.id).reverse(), 'the same events as readAll, newest first')
    t.same(backwards[0], forwards[forwards.length - 1], 'the same recorded event, data and position included')

    const [lastA] = await store.readAllBackwards({ streamPrefixes: [pa], maxCount: 1 })
    t.equal(lastA.id, forwards[3].id, "maxCount 1 with a prefix: that prefix's last event, though another stream's came after it")
    const [lastB] = await store.readAllBackwards({ streamPrefixes: [pb], maxCount: 1 })
    t.equal(lastB.position, forwards[4].position, 'and the other prefix its own')
    const beforeLast = await store.readAllBackwards({ before: forwards[4].position, streamPrefixes: [pa, pb], maxCount: 2 })
    t.same(beforeLast.map((e) => e.id), [forwards[3].id, forwards[2].id], '`before` is exclusive and maxCount limits the page')
    t.same(await store.readAllBackwards({ before: forwards[0].position, streamPrefixes: [pa, pb] }), [], 'nothing before the first event')
    t.same(await store.readAllBackwards({ streamPrefixes: [freshPrefix()], maxCount: 1 }), [], 'a prefix without streams: nothing')
    const [newest] = await store.readAllBackwards({ maxCount: 1 })
    t.ok(newest.position >= forwards[4].position, 'without a filter, the newest event of the whole store')
  })

  t.test('countAll: what readAll would return after a position, counted up to a cap', async (t) => {
    const store = await storeFor(t)
    const { pa, pb } = await interleaved(store)
    const forwards = await store.readAll({ streamPrefixes: [pa, pb] })
    t.equal(await store.countAll({ streamPrefixes: [pa], upTo: 100 }), 3, "one prefix: its streams' events, not the other's interleaved between them")
    t.equal(await store.countAll({ streamPrefixes: [pa, pb], upTo: 100 }), 5, 'several prefixes: every event of their streams')
    t.equal(await store.countAll({ after: forwards[1].position, streamPrefixes: [pa], upTo: 100 }), 1, '`after` is exclusive')
    t.equal(await store.countAll({ after: forwards[0].position, streamPrefixes: [pa, pb], upTo: 3 }), 3, 'stops at upTo (4 are after it)')
    t.equal(await store.countAll({ after: forwards[4].position, streamPrefixes: [pa, pb], upTo: 100 }), 0, 'nothing after the last event')
    t.equal(await store.countAll({ streamPrefixes: [pa], upTo: 0 }), 0, 'upTo 0: nothing counted')
    t.equal(await store.countAll({ streamPrefixes: [], upTo: 100 }), 0, 'no prefixes: nothing matches')
    t.equal(await store.countAll({ streamPrefixes: [freshPrefix()], upTo: 100 }), 0, 'a prefix without streams: 0')
    await store.appendToStream(`${pa}1`, events(2))
    t.equal(await store.countAll({ after: forwards[4].position, streamPrefixes: [pa], upTo: 100 }), 2, 'events appended since are counted')
  })

  t.test('subscribeToAll: catch-up, then live events, in order', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    await store.appendToStream(`${p}1`, events(2))
    await store.appendToStream(`${p}2`, events(1))
    const seen: RecordedEvent[] = []
    const sub = store.subscribeToAll({ streamPrefixes: [p] }, async (e) => {
      seen.push(e)
    })
    t.teardown(() => sub.close())
    await waitFor('the existing events', () => seen.length >= 3)
    await store.appendToStream(`${p}2`, events(2))
    await store.appendToStream(`${p}1`, events(1))
    await waitFor('the live events', () => seen.length >= 6)
    await settle(50)
    const all = await store.readAll({ streamPrefixes: [p] })
    t.same(seen.map((e) => e.id), all.map((e) => e.id), 'every event exactly once, in global order')
    await sub.close()
  })

  t.test('subscribeToAll: from a position, with a prefix filter', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    const other = freshPrefix()
    await store.appendToStream(`${p}1`, events(3))
    await store.appendToStream(`${other}1`, events(2))
    const written = await store.readAll({ streamPrefixes: [p] })
    const seen: RecordedEvent[] = []
    const sub = store.subscribeToAll({ after: written[0].position, streamPrefixes: [p] }, async (e) => {
      seen.push(e)
    })
    t.teardown(() => sub.close())
    await store.appendToStream(`${other}1`, events(1))
    const last = newEvent('Marker')
    await store.appendToStream(`${p}2`, [last])
    await waitFor('the marker event', () => seen.some((e) => e.id === last.id))
    t.same(seen.map((e) => e.id), [written[1].id, written[2].id, last.id], 'only events after the position, only of the prefix')
    t.notOk(seen.some((e) => e.streamName.startsWith(other)), 'no events of other streams')
    await sub.close()
  })

  t.test('subscribeToAll: decodePage sees every event once, in order; what it leaves out is passed over', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    await store.appendToStream(`${p}1`, events(3))
    await store.appendToStream(`${p}2`, events(3))
    const written = await store.readAll({ streamPrefixes: [p] })
    const paged: bigint[] = []
    const seen: RecordedEvent[] = []
    const sub = store.subscribeToAll(
      {
        streamPrefixes: [p],
        // Leaves out stream 2's events; marks the others so the handler shows it got decodePage's output.
        decodePage: async (page) => {
          paged.push(...page.map((e) => e.position))
          return page.filter((e) => e.streamName !== `${p}2`).map((e) => ({ ...e, type: `decoded:${e.type}` }))
        },
      },
      async (e) => void seen.push(e),
    )
    t.teardown(() => sub.close())
    const marker = newEvent('Marker')
    await store.appendToStream(`${p}1`, [marker])
    await waitFor('the marker', () => seen.some((e) => e.id === marker.id))
    await settle(50)
    const all = await store.readAll({ streamPrefixes: [p] })
    t.same(paged, all.map((e) => e.position), 'decodePage saw every event of the prefix once, in order')
    t.same(seen.map((e) => e.id), [...written.filter((e) => e.streamName === `${p}1`).map((e) => e.id), marker.id], 'the handler got what decodePage returned, nothing it left out')
    t.ok(seen.every((e) => e.type.startsWith('decoded:')), "the handler got decodePage's events, not the stored ones")
    await sub.close()
  })

  t.test('subscribeToAll: one handler call at a time', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    let running = 0
    let maxRunning = 0
    const seen: bigint[] = []
    const sub = store.subscribeToAll({ streamPrefixes: [p] }, async (e) => {
      running++
      maxRunning = Math.max(maxRunning, running)
      await settle(2)
      seen.push(e.position)
      running--
    })
    t.teardown(() => sub.close())
    await Promise.all([store.appendToStream(`${p}1`, events(4)), store.appendToStream(`${p}2`, events(4))])
    await store.appendToStream(`${p}3`, events(4))
    await waitFor('12 events', () => seen.length >= 12)
    t.equal(maxRunning, 1, 'the handler never ran twice at once')
    t.same(seen, [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), 'delivered in position order')
    await sub.close()
  })

  t.test('subscribeToAll: close() waits for the running handler and stops delivery', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    await store.appendToStream(`${p}1`, events(3))
    let release!: () => void
    const blocked = new Promise<void>((resolve) => (release = resolve))
    let calls = 0
    let finished = 0
    const sub = store.subscribeToAll({ streamPrefixes: [p] }, async () => {
      calls++
      if (calls === 1) await blocked
      finished++
    })
    await waitFor('the first handler call', () => calls === 1)
    let closed = false
    const closing = sub.close().then(() => (closed = true))
    await settle(30)
    t.equal(closed, false, 'close() waits while a handler call is running')
    release()
    await closing
    t.equal(finished, calls, 'no handler call is running once close() resolved')
    const callsAtClose = calls
    await store.appendToStream(`${p}1`, events(2))
    await settle(200)
    t.equal(calls, callsAtClose, 'nothing is delivered after close()')
    t.ok(callsAtClose <= 3)
  })

  t.test('data and metadata round-trip unchanged', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    const data = {
      name: 'Zoë Ünïcødé 😀 — 日本語',
      nested: { list: [1, 2.5, 'three', null, true, { deep: { deeper: ['x'] } }], empty: {}, none: null },
      quote: 'a "quoted" \\ backslash\nnewline',
      big: 9007199254740991,
    }
    const metadata = { changedAt: '2026-03-01T09:30:00.000Z', pollId: 'poll-1', kafka: { topic: 't', partition: 0, offset: '42' } }
    const withMeta = newEvent('EmployeeImported', data, metadata)
    const withoutMeta = newEvent('EmployeeNameChanged', { first: 'Ann' })
    await store.appendToStream(`${p}1`, [withMeta, withoutMeta])
    const [a, b] = await store.readStream(`${p}1`)
    t.same({ id: a.id, type: a.type, data: a.data, metadata: a.metadata }, { id: withMeta.id, type: 'EmployeeImported', data, metadata })
    t.same({ id: b.id, type: b.type, data: b.data, metadata: b.metadata }, { id: withoutMeta.id, type: 'EmployeeNameChanged', data: { first: 'Ann' }, metadata: {} }, 'missing metadata reads as {}')
    const [fromAll] = await store.readAll({ streamPrefixes: [p], maxCount: 1 })
    t.same(fromAll.data, data, 'readAll returns the same data')
    const seen: RecordedEvent[] = []
    const sub = store.subscribeToAll({ streamPrefixes: [p] }, async (e) => {
      seen.push(e)
    })
    t.teardown(() => sub.close())
    await waitFor('both events', () => seen.length >= 2)
    t.same(seen[0].metadata, metadata, 'a subscription returns the same metadata')
    await sub.close()
  })

  t.test('appendToStreams: several streams in one call, each with its own expectation', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    await store.appendToStream(`${p}existing`, events(1))
    await store.appendToStream(`${p}moved-on`, events(2))
    const appends = [
      { streamName: `${p}new`, events: events(2), expectedRevision: 'no_stream' as const },
      { streamName: `${p}existing`, events: events(1), expectedRevision: 0n },
      { streamName: `${p}moved-on`, events: events(1), expectedRevision: 0n },
      { streamName: `${p}existing-any`, events: events(1) },
    ]
    const results = await store.appendToStreams(appends)
    t.equal(results.length, 4, 'one result per append, in order')
    const [created, extended, refused, any] = results
    t.notOk(created instanceof Error)
    t.notOk(extended instanceof Error)
    t.notOk(any instanceof Error)
    t.ok(refused instanceof WrongExpectedRevisionError, 'the stream whose expectation failed gets its own error')
    if (refused instanceof WrongExpectedRevisionError) {
      t.equal(refused.streamName, `${p}moved-on`)
      t.equal(refused.actual, 1n)
    }
    t.same((await store.readStream(`${p}moved-on`)).length, 2, 'nothing written to it')
    const newStream = await store.readStream(`${p}new`)
    t.same(newStream.map((e) => e.id), appends[0].events.map((e) => e.id), 'the others were written, in order')
    if (!(created instanceof Error)) {
      t.equal(created.nextExpectedRevision, 1n)
      t.equal(created.position, newStream[1].position, "the result's position is the stream's last event's")
    }
    const existing = await store.readStream(`${p}existing`)
    t.same(existing.map((e) => e.revision), [0n, 1n])
    if (!(extended instanceof Error)) t.equal(extended.nextExpectedRevision, 1n)
    t.same((await store.readStream(`${p}existing-any`)).length, 1)
  })

  t.test('appendToStreams: repeating the same call is an idempotent no-op', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    const appends = [
      { streamName: `${p}a`, events: events(2), expectedRevision: 'no_stream' as const },
      { streamName: `${p}b`, events: events(3), expectedRevision: 'no_stream' as const },
    ]
    const first = await store.appendToStreams(appends)
    const again = await store.appendToStreams(appends)
    t.same(
      again.map((r) => (r instanceof Error ? r.message : r.nextExpectedRevision)),
      first.map((r) => (r instanceof Error ? r.message : r.nextExpectedRevision)),
      'the same revisions again',
    )
    t.equal((await store.readStream(`${p}a`)).length, 2, 'nothing appended twice')
    t.equal((await store.readStream(`${p}b`)).length, 3)
  })

  t.test('appendToStreams: an empty call, an empty append, and a stream named twice', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    t.same(await store.appendToStreams([]), [])
    await store.appendToStream(`${p}s`, events(1))
    const [checked, missing] = await store.appendToStreams([
      { streamName: `${p}s`, events: [], expectedRevision: 0n },
      { streamName: `${p}none`, events: [], expectedRevision: 'stream_exists' },
    ])
    t.notOk(checked instanceof Error, 'an empty append whose expectation holds')
    if (!(checked instanceof Error)) t.equal(checked.nextExpectedRevision, 0n)
    t.ok(missing instanceof WrongExpectedRevisionError, 'an empty append whose expectation fails')
    await t.rejects(
      store.appendToStreams([
        { streamName: `${p}twice`, events: events(1) },
        { streamName: `${p}twice`, events: events(1) },
      ]),
      RangeError,
      'one stream twice in one call is refused',
    )
    t.same(await store.readStream(`${p}twice`), [], 'and nothing of it was written')
  })

  t.test('concurrent appends with the same expected revision: exactly one wins', async (t) => {
    const store = await storeFor(t)
    const p = freshPrefix()
    const s = `${p}s`
    await store.appendToStream(s, events(1))
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => store.appendToStream(s, events(2), { expectedRevision: 0n })))
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one append succeeded')
    for (const r of results) {
      if (r.status === 'rejected') t.ok(r.reason instanceof WrongExpectedRevisionError, 'the others were told to reload')
    }
    t.same((await store.readStream(s)).map((e) => e.revision), [0n, 1n, 2n], 'only the winner was written')

    const fresh = `${p}fresh`
    const creations = await Promise.allSettled(Array.from({ length: 4 }, () => store.appendToStream(fresh, events(1), { expectedRevision: 'no_stream' })))
    t.equal(creations.filter((r) => r.status === 'fulfilled').length, 1, "one 'no_stream' append created the stream")
    t.equal((await store.readStream(fresh)).length, 1)
  })
}
