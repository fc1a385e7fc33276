// The user feed following the projector (BatchedSubscription.follow): once level with the views,
// the feed takes the projector's events instead of reading and opening the log itself, reads on its
// own again when it falls behind or the projector stops, and publishes exactly what it would alone.
import t, { type Test } from 'tap'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openSqlEventStore } from '../../processors/eventstore/sql.ts'
import { openSqlViewStore } from '../viewstore/sql.ts'
import { waitFor } from '../../test/support/wait-for.ts'
import { companyPhase } from '../../test/support/employee-history.ts'
import { expectedFeed } from '../../test/support/expected-feed.ts'
import type { UserFeedEvent } from '../../schemas/user-feed.ts'
import type { EventStore } from '../../processors/eventstore/port.ts'
import { sqlFeedCheckpoints } from './checkpoints.ts'
import { UserFeedPublisher } from './publisher.ts'
import type { UserFeedSink } from './port.ts'
import { Projector } from '../projector.ts'
import type { ViewWriter } from '../viewstore/port.ts'

interface SetupOptions {
  feedBatchSize?: number
  /** Options of the projector besides its store and views. */
  projector?: Omit<ConstructorParameters<typeof Projector>[0], 'store' | 'views'>
  /** Wraps the view store the projector writes through. */
  views?: (views: ViewWriter) => ViewWriter
}

async function setup(t: Test, options: SetupOptions = {}) {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlEventStore(db, { pollIntervalMs: 10 })
  const real = await openSqlViewStore(db)
  const views = options.views ? options.views(real) : real
  const received: UserFeedEvent[] = []
  let hold: Promise<void> | null = null
  const sink: UserFeedSink & { block(): () => void } = {
    async publish(events) {
      if (hold) await hold
      received.push(...structuredClone(events))
    },
    async close() {},
    block() {
      let release!: () => void
      hold = new Promise((r) => (release = r))
      return () => {
        hold = null
        release()
      }
    },
  }
  // The events the feed's own subscriptions deliver (not those the projector hands it).
  let ownDeliveries = 0
  const feedStore: EventStore = {
    ...store,
    subscribeToAll: (options, handler) => store.subscribeToAll(options, (e) => (ownDeliveries++, handler(e))),
  }
  const projector = new Projector({ ...options.projector, store, views })
  const publisher = new UserFeedPublisher({ store: feedStore, sink, checkpoints: sqlFeedCheckpoints(db), batchSize: options.feedBatchSize ?? 50 })
  t.teardown(async () => {
    await publisher.stop()
    await projector.stop()
  })
  return { store, projector, publisher, sink, received, ownDeliveries: () => ownDeliveries }
}

const lastPosition = async (store: EventStore) => (await store.readAll()).at(-1)!.position

/** Starts both, has the feed follow, writes a first phase of 6 employees and waits until both are past it, following. */
async function followingAfterPhase0({ store, projector, publisher }: Awaited<ReturnType<typeof setup>>): Promise<void> {
  await projector.start()
  await publisher.start()
  publisher.follow(projector)
  await companyPhase(store, 'acme', 0, 6)
  const end = await lastPosition(store)
  await waitFor('both past phase 0, following', () => projector.position === end && publisher.position === end && publisher.following)
}

t.test('once level, the feed takes the projector’s events and reads none itself; the feed is the same as alone', async (t) => {
  const { store, projector, publisher, received, ownDeliveries } = await setup(t)
  await companyPhase(store, 'acme', 0, 8)
  await projector.start()
  await publisher.start()
  t.equal(publisher.follow(projector), true, 'an unsharded projector reads every employee event, opened')
  await companyPhase(store, 'acme', 1, 8)
  let end = await lastPosition(store)
  await waitFor('both past phase 1', () => projector.position === end && publisher.position === end)
  await waitFor('level, then following', () => publisher.following)

  const readAlone = ownDeliveries()
  await companyPhase(store, 'acme', 2, 8)
  await companyPhase(store, 'acme', 3, 8)
  end = await lastPosition(store)
  await waitFor('both past phase 3', () => projector.position === end && publisher.position === end)
  t.equal(ownDeliveries(), readAlone, 'phases 2 and 3 came from the projector, none from the feed’s own reads')
  t.ok(publisher.following)
  t.same(received, await expectedFeed(store), 'exactly the feed it publishes alone: every event once, in order')
})

t.test('a feed that falls behind reads on its own; the projector is not held back; nothing is lost or repeated', async (t) => {
  const pipeline = await setup(t, { feedBatchSize: 5 })
  const { store, projector, publisher, sink, received } = pipeline
  await followingAfterPhase0(pipeline)
  let end: bigint

  const release = sink.block() // the broker stalls
  await companyPhase(store, 'acme', 1, 12)
  await companyPhase(store, 'acme', 2, 12)
  end = await lastPosition(store)
  await waitFor('the views reach the end while the feed is stuck', () => projector.position === end)
  t.ok(publisher.position! < end, 'the feed is behind')
  await waitFor('more than its backlog waiting: it reads on its own', () => !publisher.following)
  release()
  await waitFor('the feed catches up', () => publisher.position === end)
  t.same(received, await expectedFeed(store), 'every event once, in order')

  await companyPhase(store, 'acme', 3, 6)
  end = await lastPosition(store)
  await waitFor('level again, following again', () => projector.position === end && publisher.position === end && publisher.following)
  t.same(received, await expectedFeed(store))
})

t.test('when the projector stops, the feed reads on its own and misses nothing', async (t) => {
  const pipeline = await setup(t)
  const { store, projector, publisher, received } = pipeline
  await followingAfterPhase0(pipeline)
  let end: bigint

  await projector.stop()
  t.notOk(publisher.following, 'released by the stopping projector')
  await companyPhase(store, 'acme', 1, 6)
  end = await lastPosition(store)
  await waitFor('the feed on its own reaches the end', () => publisher.position === end)
  t.not(projector.position, end, 'the projector did not')
  t.same(received, await expectedFeed(store))

  await projector.start() // from its checkpoint, behind the feed: it catches up, then leads again
  await companyPhase(store, 'acme', 2, 6)
  end = await lastPosition(store)
  await waitFor('following again once level', () => projector.position === end && publisher.position === end && publisher.following)
  t.same(received, await expectedFeed(store), 'every event once, in order')
})

t.test('a projector whose batches fail does not hold the feed up', async (t) => {
  let down = false
  // The views' database refuses connections (not a poison event: the batch is retried, never skipped).
  const refusing = (real: ViewWriter) =>
    new Proxy(real, {
      get(target, key, receiver) {
        if (key !== 'transaction') return Reflect.get(target, key, receiver)
        return (fn: Parameters<ViewWriter['transaction']>[0]) =>
          down ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) : real.transaction(fn)
      },
    })
  // Small batches: the projector's subscription waits for its failing batch instead of reading on.
  const pipeline = await setup(t, { views: refusing, projector: { batchSize: 5 } })
  const { store, projector, publisher, received } = pipeline
  await followingAfterPhase0(pipeline)
  let end: bigint

  down = true
  await companyPhase(store, 'acme', 1, 6)
  end = await lastPosition(store)
  await waitFor('the feed reaches the end on its own', () => publisher.position === end)
  t.not(projector.position, end, 'while the views cannot write')
  down = false
  await companyPhase(store, 'acme', 2, 6)
  end = await lastPosition(store)
  await waitFor('both at the end, following again', () => projector.position === end && publisher.position === end && publisher.following, 30_000)
  t.same(received, await expectedFeed(store), 'every event once, in order')
})

t.test('a sharded projector is not followed: it opens only its own tenants', async (t) => {
  const { projector: sharded, publisher } = await setup(t, { projector: { shard: { index: 0, count: 2 } } })
  t.equal(publisher.follow(sharded), false)
  t.notOk(publisher.following)
})
