// The user feed publisher: a catch-up subscription to the employee streams from its own checkpoint
// (`user-feed`), mapping each event to feed events and handing them to the sink in batches. The
// checkpoint moves only after the sink acknowledged the batch, so a crash between the two sends
// that batch again on restart: at-least-once, with deterministic event ids for consumers to dedupe.
//
// The employee state before each event is folded from the stream itself and kept in an in-memory
// cache (stream → state at a revision) bounded by count and bytes (processors/bounded-cache.ts); an
// event whose predecessor is not cached (after a restart, a replay, an evicted entry) re-reads its
// stream up to that revision. No table of its own to keep consistent: the event store is the only
// truth.
//
// Erasure: the batch's events were read (and decrypted) before it is published, so an erasure
// committing in between would leave the erased person's data in the feed. With `erasures`, a
// batch is published inside a transaction of the keys' database holding the erasure lock shared
// (as the projector's view transaction does): events of streams erased by then are left out, and
// an erasure starting meanwhile waits until the publish was acknowledged.
import type { EventStore, RecordedEvent } from '../../processors/eventstore/port.ts'
import type { PersonalDataKeys } from '../../processors/eventstore/personal-data-keys.ts'
import type { SqlDatabase } from '../../sql/database.ts'
import { BatchedSubscription } from '../batched-subscription.ts'
import type { EmployeeState } from '../../processors/domain/employee-state.ts'
import { employeeDecider } from '../../processors/domain/employee.ts'
import { asDomainEvents, foldEvents } from '../../processors/domain/decider.ts'
import type { EmployeeEvent } from '../../schemas/events.ts'
import type { UserFeedEvent } from '../../schemas/user-feed.ts'
import { toUserFeedEvents } from './mapping.ts'
import { approximateBytes, BoundedCache } from '../../processors/bounded-cache.ts'
import type { FeedCheckpointStore, UserFeedSink } from './port.ts'

export const USER_FEED_CHECKPOINT = 'user-feed'
export const userFeedStreamPrefixes = ['employee-']

export interface UserFeedPublisherOptions {
  store: EventStore
  sink: UserFeedSink
  checkpoints: FeedCheckpointStore
  batchSize?: number
  /** How long a partial batch may wait for more events before it is published. */
  flushAfterMs?: number
  /** Employee states kept in memory between batches (default 10 000). */
  maxCachedStates?: number
  /** Approximate bytes of those states kept at most (default 32 MiB). */
  maxCachedBytes?: number
  /**
   * The personal data keys and their database: each batch is published under the erasure lock,
   * leaving out the events of streams erased since they were read. Without it an erasure between
   * the read and the publish leaves the erased person's data in the feed.
   */
  erasures?: { keys: Pick<PersonalDataKeys, 'erasedStreamsIn'>; db: Pick<SqlDatabase, 'transaction'> }
  onPublished?: (info: { events: number; feedEvents: number; position: bigint }) => void
  onError?: (err: Error) => void
}

/** A state's size is walked again once per this many revisions of its stream (see `remember`). */
const RESIZE_EVERY_REVISIONS = 32n

interface CachedState {
  revision: bigint
  state: EmployeeState | null
  /** approximateBytes of the state when last walked. */
  bytes: number
}

export class UserFeedPublisher extends BatchedSubscription {
  private readonly states: BoundedCache<CachedState>

  constructor(private readonly options: UserFeedPublisherOptions) {
    super({ ...options, streamPrefixes: userFeedStreamPrefixes })
    this.states = new BoundedCache<CachedState>({ maxEntries: options.maxCachedStates ?? 10_000, maxBytes: options.maxCachedBytes ?? 32 * 1024 * 1024 }, (entry) => entry.bytes)
  }

  /** Employee states cached now, and their approximate bytes. */
  get cachedStates(): { count: number; bytes: number } {
    return { count: this.states.size, bytes: this.states.bytes }
  }

  protected loadCheckpoint(): Promise<bigint | null> {
    return this.options.checkpoints.checkpoint(USER_FEED_CHECKPOINT)
  }

  /** Publishes, then moves the checkpoint. A retried batch maps to the same feed events again. */
  protected async handleBatch(events: RecordedEvent[], position: bigint): Promise<void> {
    const feed = await this.feedEventsOf(events)
    const published = await this.publishUnlessErased(feed)
    await this.options.checkpoints.setCheckpoint(USER_FEED_CHECKPOINT, position)
    this.options.onPublished?.({ events: events.length, feedEvents: published, position })
  }

  /** Publishes the feed events of the streams not erased by now; returns how many were published. */
  private async publishUnlessErased(feed: Array<{ stream: string; events: UserFeedEvent[] }>): Promise<number> {
    const erasures = this.options.erasures
    if (!erasures) return this.publish(feed.flatMap((f) => f.events))
    // A transaction only for its lock: held until the sink acknowledged (or failed).
    return erasures.db.transaction(async (tx) => {
      const erased = await erasures.keys.erasedStreamsIn(tx, feed.map((f) => f.stream))
      // Their cached states hold decrypted data too: gone with the key.
      for (const stream of erased) this.states.delete(stream)
      return this.publish(feed.filter((f) => !erased.has(f.stream)).flatMap((f) => f.events))
    })
  }

  private async publish(events: UserFeedEvent[]): Promise<number> {
    await this.options.sink.publish(events)
    return events.length
  }

  /** The employee's state just before `event`, from the cache or from its stream. */
  private async stateBefore(event: RecordedEvent): Promise<EmployeeState | null> {
    if (event.revision === 0n) return null
    const cached = this.states.get(event.streamName)
    if (cached && cached.revision === event.revision - 1n) return cached.state
    const history = await this.options.store.readStream(event.streamName, { maxCount: Number(event.revision) })
    return foldEvents(employeeDecider, history.filter((e) => e.revision < event.revision))
  }

  /**
   * Caches the state as the stream's latest. Walking a ~4 KB state for its size costs ~30 µs, as
   * much as the rest of the event's handling, so the stream's last size is carried to its next
   * state (an update replaces the record's fields: the size moves little from one revision to the
   * next) and walked again when the stream is new here or every RESIZE_EVERY_REVISIONS revisions.
   */
  private remember(stream: string, revision: bigint, state: EmployeeState | null): void {
    const previous = this.states.peek(stream)
    const carried = previous !== undefined && previous.revision === revision - 1n && revision % RESIZE_EVERY_REVISIONS !== 0n
    this.states.set(stream, { revision, state, bytes: carried ? previous.bytes : approximateBytes(state) })
  }

  /** Each event's feed events, with the stream they come from. */
  private async feedEventsOf(events: RecordedEvent[]): Promise<Array<{ stream: string; events: UserFeedEvent[] }>> {
    const out: Array<{ stream: string; events: UserFeedEvent[] }> = []
    for (const event of events) {
      const before = await this.stateBefore(event)
      const after = employeeDecider.evolve(before, asDomainEvents<EmployeeEvent>([event])[0])
      this.remember(event.streamName, event.revision, after)
      out.push({ stream: event.streamName, events: toUserFeedEvents(event, before, after) })
    }
    return out
  }
}
