// The projector: a catch-up subscription to the event store from the views' checkpoint. Events are
// applied in batches; each batch and its checkpoint commit in one transaction, so after a crash
// the projector resumes exactly where the views are. `rebuild()` starts again from position 0.
import type { EventStore } from '../processors/eventstore/port.ts'
import type { SqlViewStore } from './viewstore/sql.ts'
import { applyEvents } from './apply-events.ts'
import { BatchedSubscription } from './batched-subscription.ts'

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
  private readonly subscription: BatchedSubscription

  constructor(private readonly options: ProjectorOptions) {
    this.subscription = new BatchedSubscription({
      store: options.store,
      streamPrefixes: projectedStreamPrefixes,
      loadCheckpoint: () => options.views.checkpoint(VIEWS_CHECKPOINT),
      handleBatch: async (events, position) => {
        await options.views.transaction(async (tx) => {
          await applyEvents(tx, events)
          await tx.setCheckpoint(VIEWS_CHECKPOINT, position)
        })
        options.onApplied?.({ events: events.length, position })
      },
      batchSize: options.batchSize,
      flushAfterMs: options.flushAfterMs,
      onError: options.onError,
    })
  }

  get position(): bigint | null {
    return this.subscription.position
  }
  get error(): Error | null {
    return this.subscription.error
  }

  start(): Promise<void> {
    return this.subscription.start()
  }

  /** Writes what is buffered and its checkpoint. */
  flush(): Promise<void> {
    return this.subscription.flush()
  }

  /** Stops the subscription and writes what was already received. */
  stop(): Promise<void> {
    return this.subscription.stop()
  }

  /** Drops every view and projects again from the start of the event store. */
  async rebuild(): Promise<void> {
    await this.stop()
    await this.options.views.reset(VIEWS_CHECKPOINT)
    this.subscription.discardBuffer()
    await this.start()
  }
}
