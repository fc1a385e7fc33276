// Polls every resource of one tenant, round after round, every `intervalMs` (or at once on
// `pollNow()`, e.g. when a Kombo webhook says data changed). Rounds start at a fixed rate, as
// Java's scheduleAtFixedRate: the next one `intervalMs` after the last one started, at once when
// that round took longer (never two at a time). Waiting a whole interval after a long round ended
// would add that round's length to the delay of every change made meanwhile: at 1,000 changes/s
// rounds take longer than a 500-ms interval, and the pause after each one held the p50 delay above
// the interval (docs/benchmarks.md, "fixed-rate rounds"). One TenantPoller per tenant, so one
// tenant's broken credentials never hold up another's sync.
import { randomUUID } from 'node:crypto'
import type { ChangeEnvelope } from '../schemas/envelope.ts'
import { komboResources, type KomboResource } from '../schemas/kombo.ts'
import type { KomboClient } from './kombo/client.ts'
import { KomboAuthError, KomboIntegrationNotFoundError, KomboError } from './kombo/errors.ts'
import { pollResource, type PollResourceResult } from './poll-resource.ts'
import type { SyncStateStore } from './sync-state/port.ts'
import { RecentlyPublished, type PublishedFilter } from './recently-published.ts'
import { PublishedVersions } from './published-versions.ts'
import type { SanitiseLimits } from './sanitise-record.ts'
import type { NewDeadLetter } from './changelog/port.ts'

/**
 * The order of a round: what other records refer to before them. An employee's user is computed
 * with its team and location names, so teams and locations polled (and projected) before the
 * employees let an initial sync write each user once, not again for every team and location that
 * arrives after its members; absences refer to employees and absence types, so they come last.
 */
export const ROUND_ORDER: readonly KomboResource[] = ['groups', 'work-locations', 'legal-entities', 'absence-types', 'employees', 'absences']
const inRoundOrder = (resources: readonly KomboResource[]): KomboResource[] => [...resources].sort((a, b) => ROUND_ORDER.indexOf(a) - ROUND_ORDER.indexOf(b))

/** Default cadence of the full reconcile per tenant and resource: a week. */
export const DEFAULT_FULL_RECONCILE_INTERVAL_MS = 7 * 24 * 60 * 60 * 1000
import { KomboSyncError } from '../errors/kombo-sync-error.ts'

/** The subset of a pino logger the poller uses. */
export interface PollerLogger {
  /** A round that found nothing goes here, so an idle sync does not fill the log (optional). */
  debug?(obj: object, msg: string): void
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

/** ms until the timer's next round: `intervalMs` after the last round started, 0 when that is past. */
export function nextRoundDelay(intervalMs: number, lastRoundStartedAt: number, now: number): number {
  return Math.max(0, Math.min(intervalMs, lastRoundStartedAt + intervalMs - now))
}

export interface TenantPollerOptions {
  client: Pick<KomboClient, 'listPage'>
  tenant: string
  integrationId: string
  syncState: SyncStateStore
  publish: (envelopes: ChangeEnvelope[]) => Promise<void>
  intervalMs: number
  resources?: readonly KomboResource[]
  pageSize?: number
  overlapMs?: number
  /** Skip exact repeats of versions already published (default true; benchmarks turn it off for "before" rows). */
  skipRepeats?: boolean
  now?: () => Date
  newPollId?: () => string
  logger?: PollerLogger
  /** See pollResource. */
  futureToleranceMs?: number
  maxPagesPerPoll?: number
  recordLimits?: SanitiseLimits
  /** Where records rejected at the poller's edge go (the dead-letter store). */
  deadLetter?: (letter: NewDeadLetter) => Promise<void>
  /**
   * How often each resource is read in full (no `updated_after`) to catch what incremental polls
   * missed; 0 turns it off. Default DEFAULT_FULL_RECONCILE_INTERVAL_MS.
   */
  fullReconcileIntervalMs?: number
  /** Called after each resource's poll, for metrics. */
  onPolled?: (outcome: ResourceOutcome) => void
}

export type ResourceOutcome =
  | ({ resource: KomboResource; ok: true } & PollResourceResult)
  | { resource: KomboResource; ok: false; error: Error }

export interface PollRound {
  tenant: string
  pollId: string
  outcomes: ResourceOutcome[]
}

export type TenantPollerStatus = 'idle' | 'running' | 'stopped' | 'failed'

/** The tenant's polling stopped because Kombo will not serve it until someone acts. */
export class TenantPollingStoppedError extends KomboSyncError {
  readonly retriable = false
  constructor(
    readonly tenant: string,
    readonly integrationId: string,
    override readonly cause: KomboError,
  ) {
    super(`Polling of tenant ${tenant} (integration ${integrationId}) stopped: ${cause.message}`)
    this.name = 'TenantPollingStoppedError'
  }
}

const noopLogger: PollerLogger = { info() {}, warn() {}, error() {} }

export class TenantPoller {
  private statusValue: TenantPollerStatus = 'idle'
  private loop: Promise<void> | null = null
  private readonly stopController = new AbortController()
  private wake: (() => void) | null = null
  private wakeRequested = false
  private waiters: Array<{ resolve: (r: PollRound) => void; reject: (e: Error) => void }> = []
  private failure: TenantPollingStoppedError | null = null
  private readonly logger: PollerLogger
  /** Per resource, what this poller already published (so overlap re-reads are not published again). */
  private readonly published = new Map<KomboResource, RecentlyPublished>()
  /** What `pollNow` asked the next round for: some resources, all of them, or nothing (a timer round: all). */
  private requested: Set<KomboResource> | 'all' | null = null
  private initialPollingFinished = false
  /** When the last round over every resource began (ms): a partial round never delays a full one past the interval. */
  private lastFullRoundAt = Number.NEGATIVE_INFINITY
  /** When the last round of any kind began (ms): the timer's next round is due `intervalMs` after it. */
  private lastRoundAt = Number.NEGATIVE_INFINITY
  /** Per resource, every version published (the full reconcile's baseline); only with reconciles on. */
  private readonly versions = new Map<KomboResource, PublishedVersions>()

  constructor(private readonly o: TenantPollerOptions) {
    if (!(o.intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${o.intervalMs}`)
    this.logger = o.logger ?? noopLogger
  }

  get status(): TenantPollerStatus {
    return this.statusValue
  }

  /**
   * True until a round has completed every resource: the initial sync's reading (after a restart,
   * the first round again, until it has seen every resource's last poll succeed).
   */
  get initialPolling(): boolean {
    return !this.initialPollingFinished
  }

  /** Why polling stopped, when it stopped by itself (rejected credentials, unknown integration). */
  get stoppedBecause(): TenantPollingStoppedError | null {
    return this.failure
  }

  /** Starts the loop: a round at once, then one every `intervalMs` (at once after a round that took longer). */
  start(): void {
    if (this.statusValue !== 'idle') return
    this.statusValue = 'running'
    this.loop = this.run()
  }

  /**
   * Asks for a round now; resolves with the first round that starts after this call. With
   * `resources` (e.g. the models a Kombo data-changed webhook names) that round polls only those,
   * unless a full round is due anyway.
   */
  pollNow(resources?: readonly KomboResource[]): Promise<PollRound> {
    if (this.failure) return Promise.reject(this.failure)
    if (this.statusValue === 'stopped') return Promise.reject(new Error(`the poller of tenant ${this.o.tenant} is stopped`))
    this.requested = resources === undefined || this.requested === 'all' ? 'all' : new Set([...(this.requested ?? []), ...resources])
    const done = new Promise<PollRound>((resolve, reject) => this.waiters.push({ resolve, reject }))
    if (this.statusValue === 'idle') this.start()
    else this.wakeUp()
    return done
  }

  /** Stops after the page in flight is handed on (its poll does not advance the watermark). */
  async stop(): Promise<void> {
    if (this.statusValue === 'running') this.statusValue = 'stopped'
    this.stopController.abort()
    this.wakeUp()
    await this.loop
    this.rejectWaiters(this.failure ?? new Error(`the poller of tenant ${this.o.tenant} was stopped`))
  }

  private async run(): Promise<void> {
    while (!this.stopController.signal.aborted) {
      this.wakeRequested = false
      const waiters = this.waiters
      this.waiters = []
      const requested = this.requested
      this.requested = null
      const fullDue = Date.now() - this.lastFullRoundAt >= this.o.intervalMs
      const only = requested instanceof Set && !fullDue ? requested : null
      this.lastRoundAt = Date.now()
      if (only === null) this.lastFullRoundAt = this.lastRoundAt
      const round = await this.round(only)
      for (const w of waiters) w.resolve(round)
      if (this.failure) {
        this.statusValue = 'failed'
        this.rejectWaiters(this.failure)
        return
      }
      await this.untilNextRound()
    }
  }

  private async round(only: ReadonlySet<KomboResource> | null): Promise<PollRound> {
    const pollId = this.o.newPollId?.() ?? randomUUID()
    const outcomes: ResourceOutcome[] = []
    for (const resource of inRoundOrder(this.o.resources ?? komboResources).filter((r) => only === null || only.has(r))) {
      if (this.stopController.signal.aborted) break
      try {
        const full = await this.fullReconcileDue(resource)
        const versions = this.reconciles ? this.publishedVersions(resource) : null
        const recent = this.o.skipRepeats === false ? undefined : this.recentlyPublished(resource)
        const result = await pollResource({
          client: this.o.client,
          tenant: this.o.tenant,
          integrationId: this.o.integrationId,
          resource,
          syncState: this.o.syncState,
          publish: async (envelopes) => {
            await this.o.publish(envelopes)
            versions?.remember(envelopes.map((e) => e.record))
          },
          pageSize: this.o.pageSize,
          overlapMs: this.o.overlapMs,
          pollId,
          now: this.o.now,
          signal: this.stopController.signal,
          recentlyPublished: full && versions ? reconcileFilter(versions, recent) : recent,
          futureToleranceMs: this.o.futureToleranceMs,
          maxPagesPerPoll: this.o.maxPagesPerPoll,
          recordLimits: this.o.recordLimits,
          deadLetter: this.o.deadLetter,
          full,
        })
        const outcome: ResourceOutcome = { resource, ok: true, ...result }
        outcomes.push(outcome)
        this.o.onPolled?.(outcome)
        const finished = { tenant: this.o.tenant, resource, pollId, records: result.records, skipped: result.skipped, pages: result.pages, rejected: result.rejected, future: result.future, full: result.full }
        const message = full ? 'full reconcile finished' : 'poll finished'
        if (result.records > 0 || result.rejected > 0 || full) this.logger.info(finished, message)
        else this.logger.debug?.(finished, message)
        if (result.future > 0) {
          this.logger.warn({ tenant: this.o.tenant, resource, pollId, future: result.future, clockSkewSeconds: result.clockSkewSeconds }, "records stamped in the future (Kombo's clock ahead): published, watermark not moved past now")
        }
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err))
        const outcome: ResourceOutcome = { resource, ok: false, error }
        outcomes.push(outcome)
        this.o.onPolled?.(outcome)
        // Stopped while waiting to retry: not a failure of Kombo worth recording; the next start re-reads.
        if (this.stopController.signal.aborted && !this.failure) break
        if (error instanceof KomboAuthError || error instanceof KomboIntegrationNotFoundError) {
          await this.stopTenant(error, pollId)
          break
        }
        // Transient (or a bug in one resource's request): keep the watermark, try again next round.
        const failing = error instanceof KomboError && !error.retriable
        await this.o.syncState.recordPollFailed(this.o.tenant, resource, error, failing).catch(() => {})
        this.logger.warn({ tenant: this.o.tenant, resource, pollId, err: describe(error) }, 'poll failed; retrying next round')
      }
    }
    await this.noteInitialPollingFinished()
    return { tenant: this.o.tenant, pollId, outcomes }
  }

  /**
   * After the first complete round of every resource the initial sync's polling is finished
   * (runtime/progress.ts reports it); checked once per round until then.
   */
  private async noteInitialPollingFinished(): Promise<void> {
    if (this.initialPollingFinished || this.stopController.signal.aborted) return
    try {
      const states = await this.o.syncState.list(this.o.tenant)
      const complete = new Set(states.filter((s) => s.lastSuccessAt !== null).map((s) => s.resource))
      if (!(this.o.resources ?? komboResources).every((r) => complete.has(r))) return
      await this.o.syncState.recordInitialPollingFinished(this.o.tenant)
      this.initialPollingFinished = true
    } catch (err) {
      // Progress reporting only: the next round tries again.
      this.logger.warn({ tenant: this.o.tenant, err: describe(err instanceof Error ? err : new Error(String(err))) }, 'recording the end of the initial polling failed')
    }
  }

  private get reconciles(): boolean {
    return (this.o.fullReconcileIntervalMs ?? DEFAULT_FULL_RECONCILE_INTERVAL_MS) > 0
  }

  /** A resource already synced once is read in full again when its last full listing is older than the interval. */
  private async fullReconcileDue(resource: KomboResource): Promise<boolean> {
    if (!this.reconciles) return false
    const state = await this.o.syncState.get(this.o.tenant, resource)
    if (!state || state.watermark === null) return false // the first poll is a full listing anyway
    if (state.lastFullReconcileAt === null) return true
    const now = (this.o.now?.() ?? new Date()).getTime()
    return now - Date.parse(state.lastFullReconcileAt) >= (this.o.fullReconcileIntervalMs ?? DEFAULT_FULL_RECONCILE_INTERVAL_MS)
  }

  private publishedVersions(resource: KomboResource): PublishedVersions {
    let versions = this.versions.get(resource)
    if (!versions) this.versions.set(resource, (versions = new PublishedVersions()))
    return versions
  }

  private recentlyPublished(resource: KomboResource): RecentlyPublished {
    let published = this.published.get(resource)
    if (!published) {
      // The poll's own overlap and clock, so what it drops mid-listing is what the next poll cannot re-read.
      const options = { overlapMs: this.o.overlapMs, futureToleranceMs: this.o.futureToleranceMs, now: () => (this.o.now?.() ?? new Date()).getTime() }
      this.published.set(resource, (published = new RecentlyPublished(options)))
    }
    return published
  }

  /** Kombo will not serve this tenant until someone fixes its setup: mark every resource failing. */
  private async stopTenant(error: KomboError, pollId: string): Promise<void> {
    this.failure = new TenantPollingStoppedError(this.o.tenant, this.o.integrationId, error)
    for (const resource of this.o.resources ?? komboResources) {
      await this.o.syncState.recordPollFailed(this.o.tenant, resource, this.failure, true).catch(() => {})
    }
    this.logger.error({ tenant: this.o.tenant, pollId, err: describe(error) }, this.failure.message)
    this.stopController.abort()
  }

  private untilNextRound(): Promise<void> {
    const delay = nextRoundDelay(this.o.intervalMs, this.lastRoundAt, Date.now())
    if (this.wakeRequested || this.stopController.signal.aborted || delay === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wakeUp(), delay)
      this.wake = () => {
        clearTimeout(timer)
        this.wake = null
        resolve()
      }
    })
  }

  private wakeUp(): void {
    this.wakeRequested = true
    this.wake?.()
  }

  private rejectWaiters(error: Error): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.reject(error)
  }
}

/** The full reconcile skips what it already published in exactly this version, recently or ever. */
function reconcileFilter(versions: PublishedVersions, recent: PublishedFilter | undefined): PublishedFilter {
  return {
    has: (record) => versions.has(record) || (recent?.has(record) ?? false),
    remember: (records) => recent?.remember(records),
    forgetChangedBefore: (ms) => recent?.forgetChangedBefore(ms),
  }
}

/** Loggable error fields (KomboErrors carry ids and status, never the API key). */
function describe(error: Error): Record<string, unknown> {
  return error instanceof KomboError ? error.toJSON() : { name: error.name, message: error.message }
}
