// The record versions one poller has already handed to the change log, for as long as the
// watermark overlap may read them again. Every poll re-reads the last minute before its watermark
// (see DEFAULT_WATERMARK_OVERLAP_MS); without this, each of those re-reads was published again and
// folded again downstream as "unchanged" — at 100 changes/s and a 500 ms poll interval, 6,000
// records per poll for nothing.
//
// Only an exact repeat is skipped: same id and the same record, byte for byte (a hash of its JSON).
// A record that changed, or came back with an older changed_at (a late write, the very case the
// overlap exists for), is published. Kept in memory only: after a restart the overlap is
// published once more, which downstream folding absorbs (it is idempotent).
//
// Bounded by design, not by company size. (1) While a listing runs (an initial sync reads the
// whole company) a version changed more than the overlap before the greatest changed_at already
// remembered cannot be re-read by the next poll (its watermark is at least that greatest one), so
// it is dropped as the listing goes on, not only when the poll ends. (2) Whatever remains is
// capped by count and bytes, the least recently published going first. Either way a version
// dropped too early is at worst published again, and the processor decides it "unchanged" and
// appends nothing (processors/process-changes.test.ts: "a record is folded into its stream once,
// however often it is delivered"): a repeat, never a loss.
import { createHash } from 'node:crypto'
import { BoundedCache, type BoundedCacheLimits } from '../processors/bounded-cache.ts'

interface Seen {
  changedAtMs: number
  fingerprint: string
}

/** ~250 bytes an entry: 50k versions (a minute's overlap at ~800 changes/s of one resource) in ~12 MB. */
export const RECENTLY_PUBLISHED_LIMITS: BoundedCacheLimits = { maxEntries: 50_000, maxBytes: 14 * 1024 * 1024 }

export interface RecentlyPublishedOptions {
  /** The poll's watermark overlap (producers/poll-resource.ts, DEFAULT_WATERMARK_OVERLAP_MS). */
  overlapMs?: number
  /** A changed_at further ahead of now than this (a broken clock upstream) never drives the pruning. */
  futureToleranceMs?: number
  limits?: BoundedCacheLimits
  now?: () => number
}

const fingerprintOf = (record: unknown): string => createHash('sha1').update(JSON.stringify(record)).digest('base64')

const keyOf = (record: unknown): { id: string; changedAtMs: number } | null => {
  const { id, changed_at: changedAt } = (record ?? {}) as { id?: unknown; changed_at?: unknown }
  if (typeof id !== 'string' || typeof changedAt !== 'string') return null
  const changedAtMs = Date.parse(changedAt)
  return Number.isNaN(changedAtMs) ? null : { id, changedAtMs }
}

/** What a poll asks of "already published" memory: skip exact repeats, remember what it published. */
export interface PublishedFilter {
  has(record: unknown): boolean
  remember(records: readonly unknown[]): void
  forgetChangedBefore(ms: number): void
}

/** Entries below which pruning is not worth a pass over them. */
const PRUNE_FLOOR = 1_000

export class RecentlyPublished implements PublishedFilter {
  private readonly seen: BoundedCache<Seen>
  private readonly overlapMs: number
  private readonly futureToleranceMs: number
  private readonly now: () => number
  /** The greatest plausible changed_at remembered: the next poll reads from its overlap at the earliest. */
  private greatestMs = Number.NEGATIVE_INFINITY
  /** Prune again once this many are held (twice what the last pass left: amortised O(1) a record). */
  private pruneAt = PRUNE_FLOOR

  constructor(options: RecentlyPublishedOptions = {}) {
    this.seen = new BoundedCache(options.limits ?? RECENTLY_PUBLISHED_LIMITS, (seen) => 40 + seen.fingerprint.length)
    this.overlapMs = options.overlapMs ?? 60_000
    this.futureToleranceMs = options.futureToleranceMs ?? 30_000
    this.now = options.now ?? Date.now
  }

  get size(): number {
    return this.seen.size
  }

  get bytes(): number {
    return this.seen.bytes
  }

  /** True when exactly this version of the record was published before (and is still kept). */
  has(record: unknown): boolean {
    const key = keyOf(record)
    if (!key) return false
    const seen = this.seen.peek(key.id)
    return seen !== undefined && seen.changedAtMs === key.changedAtMs && seen.fingerprint === fingerprintOf(record)
  }

  /** Call only after the change log stored the records. */
  remember(records: readonly unknown[]): void {
    const latestPlausible = this.now() + this.futureToleranceMs
    for (const record of records) {
      const key = keyOf(record)
      if (!key) continue
      this.seen.set(key.id, { changedAtMs: key.changedAtMs, fingerprint: fingerprintOf(record) })
      if (key.changedAtMs <= latestPlausible && key.changedAtMs > this.greatestMs) this.greatestMs = key.changedAtMs
    }
    if (this.seen.size >= this.pruneAt) {
      this.forgetChangedBefore(this.greatestMs - this.overlapMs)
      this.pruneAt = Math.max(PRUNE_FLOOR, 2 * this.seen.size)
    }
  }

  /** Forgets versions that changed before `ms`: the next poll's overlap starts after them. */
  forgetChangedBefore(ms: number): void {
    this.seen.deleteWhere((seen) => seen.changedAtMs < ms)
  }
}
