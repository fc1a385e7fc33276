// The user feed publisher: a catch-up subscription to the employee streams from its own checkpoint
// (`user-feed`), mapping each event to feed events and handing them to the sink in batches. The
// checkpoint moves only after the sink acknowledged the batch, so a crash between the two sends
// that batch again on restart: at-least-once, with deterministic event ids for consumers to dedupe.
//
// The employee state before each event is folded from the stream itself and kept in a bounded
// in-memory cache (stream → state at a revision); an event whose predecessor is not cached (after a
// restart, a replay, an evicted entry) re-reads its stream up to that revision. No table of its own
// to keep consistent: the event store is the only truth.
import type { EventStore, RecordedEvent } from '../../processors/eventstore/port.ts'
import { BatchedSubscription } from '../batched-subscription.ts'
import type { EmployeeState } from '../../processors/domain/employee-state.ts'
import { employeeDecider } from '../../processors/domain/employee.ts'
import { asDomainEvents, foldEvents } from '../../processors/domain/decider.ts'
import type { EmployeeEvent } from '../../schemas/events.ts'
import type { UserFeedEvent } from '../../schemas/user-feed.ts'
import { toUserFeedEvents } from './mapping.ts'
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
  onPublished?: (info: { events: number; feedEvents: number; position: bigint }) => void
  onError?: (err: Error) => void
}

export class UserFeedPublisher extends BatchedSubscription {
  private readonly states = new Map<string, { revision: bigint; state: EmployeeState | null }>()

  constructor(private readonly options: UserFeedPublisherOptions) {
    super({ ...options, streamPrefixes: userFeedStreamPrefixes })
  }

  protected loadCheckpoint(): Promise<bigint | null> {
    return this.options.checkpoints.checkpoint(USER_FEED_CHECKPOINT)
  }

  /** Publishes, then moves the checkpoint. A retried batch maps to the same feed events again. */
  protected async handleBatch(events: RecordedEvent[], position: bigint): Promise<void> {
    const feed = await this.feedEventsOf(events)
    await this.options.sink.publish(feed)
    await this.options.checkpoints.setCheckpoint(USER_FEED_CHECKPOINT, position)
    this.options.onPublished?.({ events: events.length, feedEvents: feed.length, position })
  }

  /** The employee's state just before `event`, from the cache or from its stream. */
  private async stateBefore(event: RecordedEvent): Promise<EmployeeState | null> {
    if (event.revision === 0n) return null
    const cached = this.states.get(event.streamName)
    if (cached && cached.revision === event.revision - 1n) return cached.state
    const history = await this.options.store.readStream(event.streamName, { maxCount: Number(event.revision) })
    return foldEvents(employeeDecider, history.filter((e) => e.revision < event.revision))
  }

  private remember(stream: string, revision: bigint, state: EmployeeState | null): void {
    this.states.delete(stream) // re-inserted last: the map's order is least recently used first
    this.states.set(stream, { revision, state })
    const max = this.options.maxCachedStates ?? 10_000
    while (this.states.size > max) this.states.delete(this.states.keys().next().value!)
  }

  private async feedEventsOf(events: RecordedEvent[]): Promise<UserFeedEvent[]> {
    const out: UserFeedEvent[] = []
    for (const event of events) {
      const before = await this.stateBefore(event)
      const after = employeeDecider.evolve(before, asDomainEvents<EmployeeEvent>([event])[0])
      this.remember(event.streamName, event.revision, after)
      out.push(...toUserFeedEvents(event, before, after))
    }
    return out
  }
}
