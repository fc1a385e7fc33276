import t, { type Test } from 'tap'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openSqlEventStore } from '../../processors/eventstore/sql.ts'
import { openSqlViewStore } from '../viewstore/sql.ts'
import { waitFor } from '../../test/support/wait-for.ts'
import { companyPhase } from '../../test/support/employee-history.ts'
import type { UserFeedEvent } from '../../schemas/user-feed.ts'
import { sqlFeedCheckpoints } from './checkpoints.ts'
import { USER_FEED_CHECKPOINT, UserFeedPublisher } from './publisher.ts'
import { expectedFeed } from '../../test/support/expected-feed.ts'
import type { EventStore } from '../../processors/eventstore/port.ts'
import type { FeedCheckpointStore, UserFeedSink } from './port.ts'

async function setup(t: Test) {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlEventStore(db, { pollIntervalMs: 10 })
  await openSqlViewStore(db) // creates projection_checkpoints
  const checkpoints = sqlFeedCheckpoints(db)
  const received: UserFeedEvent[] = []
  const sink: UserFeedSink & { failNext: number } = {
    failNext: 0,
    async publish(events) {
      if (this.failNext > 0) {
        this.failNext--
        throw new Error('broker unavailable')
      }
      received.push(...structuredClone(events))
    },
    async close() {},
  }
  return { store, checkpoints, sink, received }
}

const lastPosition = async (store: EventStore) => (await store.readAll()).at(-1)!.position

t.test('publishes every user event once, resumes from its checkpoint after a stop', async (t) => {
  const { store, checkpoints, sink, received } = await setup(t)
  await companyPhase(store, 'acme', 0, 8)
  const first = new UserFeedPublisher({ store, sink, checkpoints, batchSize: 7 })
  await first.start()
  const afterPhase0 = await lastPosition(store)
  await waitFor('phase 0 published', () => first.position === afterPhase0)
  await first.stop()
  t.equal(await checkpoints.checkpoint(USER_FEED_CHECKPOINT), await lastPosition(store), 'checkpoint at the last published event')

  await companyPhase(store, 'acme', 1, 8)
  await companyPhase(store, 'acme', 2, 8)
  // A new publisher: no cached states, so it folds the streams it meets from the store.
  const second = new UserFeedPublisher({ store, sink, checkpoints, batchSize: 7 })
  await second.start()
  t.teardown(() => second.stop())
  const end = await lastPosition(store)
  await waitFor('all published', () => second.position === end)

  const expected = await expectedFeed(store)
  t.same(received, expected, 'exactly the expected events, in order, none repeated')
  t.ok(received.some((e) => e.type === 'UserUpdated' && e.changedFields?.includes('jobTitle')), 'updates after the restart know the state before')
  t.ok(received.some((e) => e.type === 'UserDeleted'))
  t.equal(new Set(received.map((e) => e.eventId)).size, received.length)
})

t.test('a failure between publishing and the checkpoint re-sends the batch: identical duplicates, nothing missing', async (t) => {
  const { store, sink, received, checkpoints: real } = await setup(t)
  let failCheckpoint = 1
  const checkpoints: FeedCheckpointStore = {
    checkpoint: (n) => real.checkpoint(n),
    async setCheckpoint(n, p) {
      if (failCheckpoint-- > 0) throw new Error('view database unavailable')
      await real.setCheckpoint(n, p)
    },
  }
  await companyPhase(store, 'acme', 0, 5)
  sink.failNext = 1 // and the broker fails once first
  const errors: Error[] = []
  const publisher = new UserFeedPublisher({ store, sink, checkpoints, onError: (e) => errors.push(e) })
  await publisher.start()
  t.teardown(() => publisher.stop())
  const end = await lastPosition(store)
  await waitFor('published', () => publisher.position === end)

  t.same(errors.map((e) => e.message), ['broker unavailable', 'view database unavailable'])
  const expected = await expectedFeed(store)
  const byId = new Map<string, UserFeedEvent>()
  for (const e of received) {
    if (byId.has(e.eventId)) t.same(e, byId.get(e.eventId), `duplicate ${e.eventId} is identical`)
    byId.set(e.eventId, e)
  }
  t.ok(received.length > expected.length, 'the batch was sent again')
  t.same([...byId.keys()].sort(), expected.map((e) => e.eventId).sort(), 'no event id missing')
})

t.test('the state cache holds within its byte budget, and what it evicts is folded again: the same feed', async (t) => {
  const { store, checkpoints, sink, received } = await setup(t)
  for (const phase of [0, 1, 2]) await companyPhase(store, 'acme', phase, 12)
  // ~3 employee states' worth of bytes for 12 employees: most predecessors are evicted or never kept.
  const maxCachedBytes = 3 * 2_500
  const publisher = new UserFeedPublisher({ store, sink, checkpoints, batchSize: 5, maxCachedBytes })
  let peakBytes = 0
  const end = await lastPosition(store)
  await publisher.start()
  t.teardown(() => publisher.stop())
  await waitFor('all published', () => {
    peakBytes = Math.max(peakBytes, publisher.cachedStates.bytes)
    return publisher.position === end
  })
  t.ok(publisher.cachedStates.count > 0, `it still caches states (${publisher.cachedStates.count})`)
  t.ok(publisher.cachedStates.count < 12, `fewer states than employees (${publisher.cachedStates.count}): the byte budget, not the count, bounds it`)
  t.ok(peakBytes <= maxCachedBytes, `bytes held at most ${peakBytes} ≤ ${maxCachedBytes}`)
  t.same(received, await expectedFeed(store), 'the same feed as with every state cached')
})
