// Where the poller keeps its progress per (tenant, resource): the watermark it has fully
// processed, and what the last polls did (for the `sync` API, alerts and operators).
// Adapter: sql.ts (embedded database or PostgreSQL). Contract: test/contracts/sync-state.contract.ts.
import type { KomboResource } from '../../schemas/kombo.ts'

export interface SyncState {
  tenant: string
  resource: KomboResource
  /**
   * The greatest Kombo `changed_at` of a poll that ran to its last page, exactly as Kombo sent it;
   * null before the first complete poll. Never moves backwards.
   */
  watermark: string | null
  lastPollStartedAt: string | null
  lastPollFinishedAt: string | null
  lastSuccessAt: string | null
  /** Records handed on to the change log, over all polls (records re-read in overlaps count again). */
  recordsSeen: number
  lastError: { message: string; at: string } | null
  /** True while the last poll failed in a way that needs attention (e.g. rejected credentials). */
  failing: boolean
  /**
   * How far (seconds) the latest `changed_at` of the last complete poll lay after that poll's
   * start: Kombo's clock running ahead of ours (0 when nothing was stamped ahead).
   */
  clockSkewSeconds: number
  /** When the last complete full listing (first sync or periodic reconcile) started; null before one did. */
  lastFullReconcileAt: string | null
}

/** What a complete poll saw beside its watermark. */
export interface PollSucceededDetails {
  clockSkewSeconds?: number
  /**
   * The poll read everything (no `updated_after`): its start, by the poller's clock (the clock the
   * poller also judges "reconcile due" by), becomes `lastFullReconcileAt`.
   */
  fullListingStartedAt?: string
}

/**
 * A tenant's initial sync as the database keeps it, so that the poller, processor and API roles
 * can run in different processes: started at the tenant's first poll, polling finished after the
 * first complete round of every resource, `processed` added to by the processor once per batch.
 */
export interface InitialSyncRecord {
  tenant: string
  startedAt: string
  /** When every resource had run one poll to its last page; null while polling. */
  pollingFinishedAt: string | null
  /** Records handed on by the initial polls (live while polling, frozen when polling finished). */
  polled: number
  /** Records the processor role folded (or dead-lettered) since the initial sync began. */
  processed: number
  /** Set once polling finished and `processed` caught up with `polled`. */
  finishedAt: string | null
}

export interface SyncStateStore {
  /** The state of one resource; null when it was never polled. */
  get(tenant: string, resource: KomboResource): Promise<SyncState | null>
  /** Every resource of the tenant that was ever polled, ordered by resource. */
  list(tenant: string): Promise<SyncState[]>
  recordPollStarted(tenant: string, resource: KomboResource): Promise<void>
  recordPageHandedOn(tenant: string, resource: KomboResource, count: number): Promise<void>
  /**
   * The poll ran to its last page. Advances the watermark to `newWatermark` only if it is later
   * (null keeps the old one), clears `failing`, and records `details`.
   */
  recordPollSucceeded(tenant: string, resource: KomboResource, newWatermark: string | null, details?: PollSucceededDetails): Promise<void>
  /**
   * Forgets the tenant's watermarks (and full-listing times), so its next poll of every resource is
   * a full listing: the tenant was switched to another Kombo integration (a re-link), whose
   * `changed_at` values say nothing about the old one's.
   */
  forgetWatermarks(tenant: string): Promise<void>
  /** The poll stopped with `error`; the watermark stays where it was. */
  recordPollFailed(tenant: string, resource: KomboResource, error: Error | string, failing: boolean): Promise<void>
  /**
   * The tenant's initial sync; null when it never started (or the tenant was first polled before
   * this was recorded: then `list` has rows and the initial sync is long over).
   */
  initialSync(tenant: string): Promise<InitialSyncRecord | null>
  /** Every resource finished one complete poll: freezes `polled`. Idempotent. */
  recordInitialPollingFinished(tenant: string): Promise<void>
  /** Records processed per tenant in one batch: one write for the batch, not one per record. */
  recordProcessed(counts: ReadonlyMap<string, number>): Promise<void>
}
