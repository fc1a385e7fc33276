// A catch-up subscription to the event store that hands events on in batches and remembers how
// far it got. The projector and the user feed publisher are both one of these: they differ only in
// what a batch does and where the checkpoint lives. A batch's handler must move the checkpoint
// itself, after (or atomically with) its effect; while it fails, the batch is retried with backoff
// and the subscription is held back, so nothing is skipped.
import { setTimeout as sleep } from 'node:timers/promises'
import type { EventStore, RecordedEvent, Subscription } from '../processors/eventstore/port.ts'

export interface BatchedSubscriptionOptions {
  store: EventStore
  streamPrefixes: string[]
  batchSize?: number
  /** How long a partial batch may wait for more events before it is handled. */
  flushAfterMs?: number
  onError?: (err: Error) => void
}

export abstract class BatchedSubscription {
  /** Where the last run stopped (exclusive); null to start at the beginning. */
  protected abstract loadCheckpoint(): Promise<bigint | null>
  /** Applies the batch and moves the checkpoint to `position`; throws to have it retried. */
  protected abstract handleBatch(events: RecordedEvent[], position: bigint): Promise<void>

  private subscription: Subscription | null = null
  private buffer: RecordedEvent[] = []
  private flushTimer: NodeJS.Timeout | null = null
  private flushing: Promise<void> = Promise.resolve()
  private lastPosition: bigint | null = null
  /** The position of the last event the subscription delivered (handled or still buffered). */
  private lastReceived: bigint | null = null
  private failed: Error | null = null
  private stopping = false

  constructor(private readonly subscriptionOptions: BatchedSubscriptionOptions) {}

  /** The position of the last event handled (and checkpointed). */
  get position(): bigint | null {
    return this.lastPosition
  }
  /** The position of the last event received: handled, or still waiting in the buffer. */
  get received(): bigint | null {
    return this.lastReceived
  }
  /** The last failure, until a batch succeeds again. */
  get error(): Error | null {
    return this.failed
  }

  async start(): Promise<void> {
    const after = await this.loadCheckpoint()
    this.lastPosition = after
    this.lastReceived = after
    this.failed = null
    this.stopping = false
    this.open()
  }

  /** Subscribes strictly after the last event received (buffered or handled), so nothing repeats. */
  private open(): void {
    const subscription = this.subscriptionOptions.store.subscribeToAll(
      {
        after: this.lastReceived ?? undefined,
        streamPrefixes: this.subscriptionOptions.streamPrefixes,
        onError: (err) => {
          this.fail(err)
          if (this.subscription === subscription) void this.reopen()
        },
      },
      (event) => {
        this.lastReceived = event.position
        return this.enqueue(event)
      },
    )
    this.subscription = subscription
  }

  /**
   * The subscription ended on an error (the event store went away, a restart, a network cut): it
   * does not come back by itself. Wait with backoff until the store answers a read, then subscribe
   * again from the last event received.
   */
  private async reopen(): Promise<void> {
    const dropped = this.subscription
    this.subscription = null
    await dropped?.close().catch(() => {})
    for (let attempt = 0; !this.stopping; attempt++) {
      await sleep(Math.min(5000, 200 * 2 ** attempt))
      if (this.stopping) return
      try {
        await this.subscriptionOptions.store.readAll({ maxCount: 1 })
      } catch (err) {
        this.fail(err as Error)
        continue
      }
      this.open()
      // Reachable again; a batch still failing (e.g. the view database) keeps reporting itself.
      if (this.buffer.length === 0) this.failed = null
      return
    }
  }

  private fail(err: Error): void {
    this.failed = err
    this.subscriptionOptions.onError?.(err)
  }

  private async enqueue(event: RecordedEvent): Promise<void> {
    this.buffer.push(event)
    if (this.buffer.length >= (this.subscriptionOptions.batchSize ?? 500)) {
      await this.flush()
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null
        void this.flush()
      }, this.subscriptionOptions.flushAfterMs ?? 20)
    }
  }

  /** Handles what is buffered, retrying with backoff until it succeeds or the subscription stops. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      for (let attempt = 0; this.buffer.length > 0; attempt++) {
        // A copy: events keep arriving (into this.buffer) while the batch is handled.
        const events = this.buffer.slice()
        const position = events[events.length - 1].position
        try {
          await this.handleBatch(events, position)
        } catch (err) {
          this.fail(err as Error)
          if (this.stopping) return
          await sleep(Math.min(5000, 100 * 2 ** attempt))
          continue
        }
        this.buffer = this.buffer.slice(events.length)
        this.failed = null
        this.lastPosition = position
      }
    })
    return this.flushing
  }

  /** Stops the subscription and handles what was already received (one try). */
  async stop(): Promise<void> {
    this.stopping = true // first: a close that reports an error must not reopen
    await this.subscription?.close()
    this.subscription = null
    if (this.flushTimer) clearTimeout(this.flushTimer)
    this.flushTimer = null
    await this.flush()
  }

  /** Forgets what is buffered (before a rebuild or replay from another position). */
  discardBuffer(): void {
    this.buffer = []
  }
}
