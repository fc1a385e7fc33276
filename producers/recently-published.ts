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
import { createHash } from 'node:crypto'

interface Seen {
  changedAtMs: number
  fingerprint: string
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

export class RecentlyPublished implements PublishedFilter {
  private readonly seen = new Map<string, Seen>()

  get size(): number {
    return this.seen.size
  }

  /** True when exactly this version of the record was published before. */
  has(record: unknown): boolean {
    const key = keyOf(record)
    if (!key) return false
    const seen = this.seen.get(key.id)
    return seen !== undefined && seen.changedAtMs === key.changedAtMs && seen.fingerprint === fingerprintOf(record)
  }

  /** Call only after the change log stored the records. */
  remember(records: readonly unknown[]): void {
    for (const record of records) {
      const key = keyOf(record)
      if (key) this.seen.set(key.id, { changedAtMs: key.changedAtMs, fingerprint: fingerprintOf(record) })
    }
  }

  /** Forgets versions that changed before `ms`: the next poll's overlap starts after them. */
  forgetChangedBefore(ms: number): void {
    for (const [id, seen] of this.seen) if (seen.changedAtMs < ms) this.seen.delete(id)
  }
}
