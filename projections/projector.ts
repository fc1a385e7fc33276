// The projector: a catch-up subscription to the event store from the views' checkpoint. Events are
// applied in batches; each batch and its checkpoint commit in one transaction, so after a crash
// the projector resumes exactly where the views are. `rebuild()` starts again from position 0.
import type { EventStore, RecordedEvent, Subscription } from '../processors/eventstore/port.ts'
import type { SqlViewStore } from './viewstore/sql.ts'
import { setTimeout as sleep } from 'node:timers/promises'
import { applyEvents } from './apply-events.ts'

export const VIEWS_CHECKPOINT = 'learnamp-views'
/** Our streams; system and foreign streams in the store are not ours to project. */
export const projectedStreamPrefixes = ['employee-', 'team-', 'location-', 'legalEntity-', 'absenceType-', 'absence-']

export interface ProjectorOptions {
  store: EventStore
  views: SqlViewStore
  batchSize?: number
  /** How long a partial batch may wait for more events before it is written. */
  flushAfterMs?: number
  onApplied?: (info: { events: number; position: bigint }) => void
  onError?: (err: Error) => void
}

export class Projector {
  private subscription: Subscription | null = null
  private buffer: RecordedEvent[] = []
  private flushTimer: NodeJS.Timeout | null = null
  private flushing: Promise<void> = Promise.resolve()
  private lastPosition: bigint | null = null
  private failed: Error | null = null
  private stopping = false

  constructor(private readonly options: ProjectorOptions) {}

  get position(): bigint | null {
    return this.lastPosition
  }
  get error(): Error | null {
    return this.failed
  }

  async start(): Promise<void> {
    const after = await this.options.views.checkpoint(VIEWS_CHECKPOINT)
    this.lastPosition = after
    this.failed = null
    this.stopping = false
    this.subscription = this.options.store.subscribeToAll(
      {
        after: after ?? undefined,
        streamPrefixes: projectedStreamPrefixes,
        onError: (err) => {
          this.failed = err
          this.options.onError?.(err)
        },
      },
      (event) => this.enqueue(event),
    )
  }

  private async enqueue(event: RecordedEvent): Promise<void> {
    this.buffer.push(event)
    if (this.buffer.length >= (this.options.batchSize ?? 500)) {
      await this.flush()
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null
        void this.flush()
      }, this.options.flushAfterMs ?? 20)
    }
  }

  /**
   * Writes the buffered events and the checkpoint in one transaction. While the view database is
   * unavailable it retries with backoff, holding the subscription back (nothing is skipped).
   */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      for (let attempt = 0; this.buffer.length > 0; attempt++) {
        // A copy: events keep arriving (into this.buffer) while the transaction runs.
        const events = this.buffer.slice()
        const position = events[events.length - 1].position
        try {
          await this.options.views.transaction(async (tx) => {
            await applyEvents(tx, events)
            await tx.setCheckpoint(VIEWS_CHECKPOINT, position)
          })
        } catch (err) {
          this.failed = err as Error
          this.options.onError?.(err as Error)
          if (this.stopping) return
          await sleep(Math.min(5000, 100 * 2 ** attempt))
          continue
        }
        this.buffer = this.buffer.slice(events.length)
        this.failed = null
        this.lastPosition = position
        this.options.onApplied?.({ events: events.length, position })
      }
    })
    return this.flushing
  }

  /** Stops the subscription and writes what was already received. */
  async stop(): Promise<void> {
    await this.subscription?.close()
    this.stopping = true
    this.subscription = null
    if (this.flushTimer) clearTimeout(this.flushTimer)
    this.flushTimer = null
    await this.flush()
  }

  /** Drops every view and projects again from the start of the event store. */
  async rebuild(): Promise<void> {
    await this.stop()
    await this.options.views.reset(VIEWS_CHECKPOINT)
    this.buffer = []
    await this.start()
  }
}
