// The projector: runs a projection (the Learn Amp views by default) as a catch-up subscription to
// the event store from its checkpoint. Events are applied in batches; each batch and its checkpoint
// commit in one transaction, so after a crash the projector resumes exactly where the views are.
// It holds the checkpoint's lock while it runs (a second projector on the same view database is
// refused with CheckpointLockedError) and moves the checkpoint compare-and-set (a stale writer
// stops with CheckpointConflictError). `rebuild()` starts again from position 0.
import type { EventStore, RecordedEvent } from '../processors/eventstore/port.ts'
import type { PersonalDataKeys } from '../processors/eventstore/personal-data-keys.ts'
import type { CheckpointLock, ViewTransaction, ViewWriter } from './viewstore/port.ts'
import { endSpans, startSpan, tracingEnabled } from '../tracing/spans.ts'
import { BatchedSubscription } from './batched-subscription.ts'
import { learnAmpViews, type Projection } from './projection.ts'
import { utcEverywhere, type ProjectionSettings } from './apply-events.ts'
import type { TenantShard } from './shard.ts'
import { CarriedStates, type ErasedStreams, type StagedStates } from './carried-states.ts'
import { DeferredUsers, type StagedUsers } from './deferred-users.ts'

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
  /**
   * Carry entity states from batch to batch and write them once per this many (a rebuild: see
   * carried-states.ts); the checkpoint then moves only with them, and the users are recomputed only
   * then too (deferred-users.ts). Absent: every batch writes its states and users.
   */
  carryStates?: number
  /** How long a partial batch may wait for more events before it is written. */
  flushAfterMs?: number
  onApplied?: (info: { events: number; position: bigint }) => void
  /** An event that kept failing alone was skipped (recorded in projection_dead_letters). */
  onSkipped?: (info: { position: bigint; streamName: string; reason: string }) => void
  onError?: (err: Error) => void
}

/** What a batch's transaction staged of the carried states and the users deferred with them. */
interface StagedCarry {
  states: StagedStates
  users: StagedUsers | null
}

export class Projector extends BatchedSubscription {
  private readonly projection: Projection
  private readonly carried: CarriedStates | null
  /** With carried states, when the projection can recompute users apart from its batches. */
  private readonly deferred: DeferredUsers | null
  private readonly erasedIn: ErasedStreams | null
  /** The checkpoint as last read or written (behind `position` while states are carried). */
  private persisted: bigint | null = null

  constructor(private readonly options: ProjectorOptions) {
    const projection = options.projection ?? learnAmpViews(options.settings ?? utcEverywhere, options.shard)
    super({ ...options, streamPrefixes: projection.streamPrefixes, decodes: projection.decodes, tenantShard: projection.tenantShard })
    this.projection = projection
    this.carried = options.carryStates ? new CarriedStates(options.carryStates) : null
    this.deferred = this.carried && projection.recomputeUsers ? new DeferredUsers() : null
    const erasures = options.erasures
    this.erasedIn = erasures ? (tx, streams) => erasures.erasedStreamsIn(tx.sql, streams) : null
  }

  protected async loadCheckpoint(): Promise<bigint | null> {
    this.persisted = await this.options.views.checkpoint(this.projection.name)
    return this.persisted
  }

  /** Starts from the checkpoint: states carried past it are dropped with the rest of what ran ahead. */
  override async start(): Promise<void> {
    this.carried?.clear()
    this.deferred?.clear()
    await super.start()
  }

  protected override lockCheckpoint(): Promise<CheckpointLock> {
    return this.options.views.lockCheckpoint(this.projection.name)
  }

  /**
   * The batch and its checkpoint in one transaction: the views never run ahead or behind. With
   * carried states, a batch that does not write them commits without moving the checkpoint, and
   * its users wait for the batch that does (deferred-users.ts).
   */
  protected async handleBatch(events: RecordedEvent[], position: bigint, previous: bigint | null): Promise<void> {
    const handled = events.filter((e) => this.projection.canHandle(e))
    const spans = traceViewWrites(this.projection.name, handled)
    let committed: (() => void) | null = null
    try {
      committed = await this.options.views.transaction(async (tx) => {
        const erased = (await this.options.erasures?.erasedStreamsIn(tx.sql, handled.map((e) => e.streamName))) ?? new Set()
        const live = erased.size > 0 ? handled.filter((e) => !erased.has(e.streamName)) : handled
        const carry = await this.stageCarried(tx)
        if (live.length > 0) await this.projection.apply(carry?.states.tx ?? tx, live, carry?.users ? { deferUsers: carry.users.defer } : undefined)
        const moves = carry === null || (await this.settleCarried(carry, false))
        if (moves) await tx.setCheckpoint(this.projection.name, position, this.carried ? this.persisted : previous)
        return () => {
          this.commitCarried(carry, moves)
          if (moves) this.persisted = position
        }
      })
    } catch (err) {
      endSpans(spans, err)
      throw err
    }
    committed()
    endSpans(spans)
    this.options.onApplied?.({ events: events.length, position })
  }

  /**
   * Writes the carried states and moves the checkpoint to the last event handled (the end of a
   * rebuild). Without carried states the checkpoint is already there.
   */
  settleStates(): Promise<void> {
    // Between batches: a batch handled alongside would stage onto the states being written and
    // move the checkpoint from where this leaves it.
    return this.betweenBatches(async () => {
      const position = this.position
      if (!this.carried || position === null || position === this.persisted) return
      const carry = await this.options.views.transaction(async (tx) => {
        const c = (await this.stageCarried(tx))!
        await this.settleCarried(c, true)
        await tx.setCheckpoint(this.projection.name, position, this.persisted)
        return c
      })
      this.commitCarried(carry, true)
      this.persisted = position
    })
  }

  /** The poison event: recorded with the reason, and the checkpoint moved past it, in one transaction. */
  protected override async skipPoisoned(event: RecordedEvent, err: Error, previous: bigint | null): Promise<void> {
    const reason = `kept failing alone after repeated tries: ${err.message}`.slice(0, 2000)
    // Carried states are written with it: the checkpoint must not pass states only in memory.
    const carry = await this.options.views.transaction(async (tx) => {
      await tx.recordSkippedEvent(this.projection.name, { position: event.position, streamName: event.streamName, eventId: event.id, type: event.type, reason })
      const c = await this.stageCarried(tx)
      if (c) await this.settleCarried(c, true)
      await tx.setCheckpoint(this.projection.name, event.position, this.carried ? this.persisted : previous)
      return c
    })
    this.commitCarried(carry, true)
    this.persisted = event.position
    this.options.onSkipped?.({ position: event.position, streamName: event.streamName, reason })
  }

  /**
   * The carried states as this transaction sees them, with the users waiting on them (null without
   * carried states). Staged, they are read and saved through `states.tx`.
   */
  private async stageCarried(tx: ViewTransaction): Promise<StagedCarry | null> {
    if (!this.carried) return null
    const states = await this.carried.stage(tx, this.erasedIn)
    // Employees found erased in this transaction are dropped as waiting users too.
    return { states, users: this.deferred?.stage(states.erased) ?? null }
  }

  /**
   * Writes the carried states when due (always with `force`) and, when it does, the users deferred
   * since the last write, recomputed from those states in the same transaction, so the checkpoint
   * never passes a user not yet written. True when the states were written (the checkpoint may move).
   */
  private async settleCarried(carry: StagedCarry, force: boolean): Promise<boolean> {
    const written = await carry.states.settle(force)
    const users = written ? carry.users?.all() : undefined
    if (users && users.size > 0) await this.projection.recomputeUsers!(carry.states.tx, users)
    return written
  }

  /** After the transaction committed: what it staged is carried, or, `written`, nothing waits any more. */
  private commitCarried(carry: StagedCarry | null, written: boolean): void {
    carry?.states.commit()
    carry?.users?.commit(written)
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
