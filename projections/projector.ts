// The projector: a catch-up subscription to the event store from the views' checkpoint. Events are
// applied in batches; each batch and its checkpoint commit in one transaction, so after a crash
// the projector resumes exactly where the views are. `rebuild()` starts again from position 0.
import type { EventStore, RecordedEvent } from '../processors/eventstore/port.ts'
import type { SqlViewStore } from './viewstore/sql.ts'
import { ourStreamPrefixes } from '../schemas/streams.ts'
import { applyEvents, utcEverywhere, type ProjectionSettings } from './apply-events.ts'
import { recordChangeLog } from './audit/record-change-log.ts'
import { BatchedSubscription } from './batched-subscription.ts'

export const VIEWS_CHECKPOINT = 'learnamp-views'
/** Our streams (one prefix per stream kind, schemas/streams.ts); system and foreign streams are not ours to project. */
export const projectedStreamPrefixes = [...ourStreamPrefixes]

export interface ProjectorOptions {
  store: EventStore
  views: SqlViewStore
  /** The tenants' time zones (default: UTC for every tenant). */
  settings?: ProjectionSettings
  batchSize?: number
  /** How long a partial batch may wait for more events before it is written. */
  flushAfterMs?: number
  onApplied?: (info: { events: number; position: bigint }) => void
  onError?: (err: Error) => void
}

export class Projector extends BatchedSubscription {
  constructor(private readonly options: ProjectorOptions) {
    super({ ...options, streamPrefixes: projectedStreamPrefixes })
  }

  protected loadCheckpoint(): Promise<bigint | null> {
    return this.options.views.checkpoint(VIEWS_CHECKPOINT)
  }

  /** The batch and its checkpoint in one transaction: the views never run ahead or behind. */
  protected async handleBatch(events: RecordedEvent[], position: bigint): Promise<void> {
    await this.options.views.transaction(async (tx) => {
      const settings = this.options.settings ?? utcEverywhere
      await recordChangeLog(tx, events, settings) // reads the states before applyEvents moves them
      await applyEvents(tx, events, settings)
      await tx.setCheckpoint(VIEWS_CHECKPOINT, position)
    })
    this.options.onApplied?.({ events: events.length, position })
  }

  /** Drops every view and projects again from the start of the event store. */
  async rebuild(): Promise<void> {
    await this.stop()
    await this.options.views.reset(VIEWS_CHECKPOINT)
    this.discardBuffer()
    await this.start()
  }
}
