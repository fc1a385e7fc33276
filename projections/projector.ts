// The projector: runs a projection (the Learn Amp views by default) as a catch-up subscription to
// the event store from its checkpoint. Events are applied in batches; each batch and its checkpoint
// commit in one transaction, so after a crash the projector resumes exactly where the views are.
// It holds the checkpoint's lock while it runs (a second projector on the same view database is
// refused with CheckpointLockedError) and moves the checkpoint compare-and-set (a stale writer
// stops with CheckpointConflictError). `rebuild()` starts again from position 0.
import type { EventStore, RecordedEvent } from '../processors/eventstore/port.ts'
import type { PersonalDataKeys } from '../processors/eventstore/personal-data-keys.ts'
import type { CheckpointLock, ViewWriter } from './viewstore/port.ts'
import { endSpans, startSpan, tracingEnabled } from '../tracing/spans.ts'
import { BatchedSubscription } from './batched-subscription.ts'
import { learnAmpViews, type Projection } from './projection.ts'
import { utcEverywhere, type ProjectionSettings } from './apply-events.ts'
import type { TenantShard } from './shard.ts'

export { VIEWS_CHECKPOINT, projectedStreamPrefixes } from './projection.ts'

export interface ProjectorOptions {
  store: EventStore
  views: ViewWriter
  /** What to project; the Learn Amp views (with `settings`) by default. */
  projection?: Projection
  /** The tenants' time zones for the Learn Amp views (default: UTC for every tenant). */
  settings?: ProjectionSettings
  /**
   * The personal data keys: a batch's events of employees erased since they were read are left
   * out inside the batch's transaction, which is ordered against erasures. Without it an erasure
   * committing between the read and the view write is undone by that write.
   */
  erasures?: Pick<PersonalDataKeys, 'erasedStreamsIn'>
  /** The tenants this projector owns (the Learn Amp views only; default: every tenant). */
  shard?: TenantShard
  batchSize?: number
  /** How long a partial batch may wait for more events before it is written. */
  flushAfterMs?: number
  onApplied?: (info: { events: number; position: bigint }) => void
  /** An event that kept failing alone was skipped (recorded in projection_dead_letters). */
  onSkipped?: (info: { position: bigint; streamName: string; reason: string }) => void
  onError?: (err: Error) => void
}

export class Projector extends BatchedSubscription {
  private readonly projection: Projection

  constructor(private readonly options: ProjectorOptions) {
    const projection = options.projection ?? learnAmpViews(options.settings ?? utcEverywhere, options.shard)
    super({ ...options, streamPrefixes: projection.streamPrefixes, decodes: projection.decodes, tenantShard: projection.tenantShard })
    this.projection = projection
  }

  protected loadCheckpoint(): Promise<bigint | null> {
    return this.options.views.checkpoint(this.projection.name)
  }

  protected override lockCheckpoint(): Promise<CheckpointLock> {
    return this.options.views.lockCheckpoint(this.projection.name)
  }

  /** The batch and its checkpoint in one transaction: the views never run ahead or behind. */
  protected async handleBatch(events: RecordedEvent[], position: bigint, previous: bigint | null): Promise<void> {
    const handled = events.filter((e) => this.projection.canHandle(e))
    const spans = traceViewWrites(this.projection.name, handled)
    try {
      await this.options.views.transaction(async (tx) => {
        const erased = (await this.options.erasures?.erasedStreamsIn(tx.sql, handled.map((e) => e.streamName))) ?? new Set()
        const live = erased.size > 0 ? handled.filter((e) => !erased.has(e.streamName)) : handled
        if (live.length > 0) await this.projection.apply(tx, live)
        await tx.setCheckpoint(this.projection.name, position, previous)
      })
    } catch (err) {
      endSpans(spans, err)
      throw err
    }
    endSpans(spans)
    this.options.onApplied?.({ events: events.length, position })
  }

  /** The poison event: recorded with the reason, and the checkpoint moved past it, in one transaction. */
  protected override async skipPoisoned(event: RecordedEvent, err: Error, previous: bigint | null): Promise<void> {
    const reason = `kept failing alone after repeated tries: ${err.message}`.slice(0, 2000)
    await this.options.views.transaction(async (tx) => {
      await tx.recordSkippedEvent(this.projection.name, { position: event.position, streamName: event.streamName, eventId: event.id, type: event.type, reason })
      await tx.setCheckpoint(this.projection.name, event.position, previous)
    })
    this.options.onSkipped?.({ position: event.position, streamName: event.streamName, reason })
  }

  /** The checkpoint this projector moves (its shard's, when sharded). */
  get checkpointName(): string {
    return this.projection.name
  }

  /** Drops every view and projects again from the start of the event store. */
  async rebuild(): Promise<void> {
    await this.stop()
    await this.options.views.reset(this.projection.name)
    this.discardBuffer()
    await this.start()
  }
}

/** Events appended for a traced record carry its traceparent: their view write joins that trace. */
function traceViewWrites(projection: string, events: RecordedEvent[]) {
  if (!tracingEnabled()) return []
  return events.map((e) => {
    const traceparent = typeof e.metadata.traceparent === 'string' ? e.metadata.traceparent : null
    return traceparent
      ? startSpan(`project ${e.streamName.slice(0, e.streamName.indexOf('-'))}`, { traceparent, attributes: { 'kombo_sync.projection': projection, 'kombo_sync.event_type': e.type, 'kombo_sync.position': String(e.position) } })
      : null
  })
}
