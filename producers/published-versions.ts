// The record versions this poller published, per resource, by id: the baseline the periodic full
// reconcile compares Kombo's full listing against, so it publishes only what differs (a change the
// incremental polls missed, e.g. stamped before the watermark) and can count it.
//
// Bounded by count and bytes (the most recently published kept), not one entry per record ever
// published: that grew with the company (~20 MB at 100k employees across resources). A version
// evicted, or never known (after a restart), is published again by the reconcile. That is harmless:
// the processor decides an unchanged record as "unchanged" and appends nothing (processors/
// process-changes.test.ts: "a record is folded into its stream once, however often it is
// delivered"); it costs the reconcile that record's trip through the change log, and counts it
// as "differed". A reconcile runs once a week (DEFAULT_FULL_RECONCILE_INTERVAL_MS).
import { createHash } from 'node:crypto'
import { BoundedCache, type BoundedCacheLimits } from '../processors/bounded-cache.ts'

/** ~250 bytes an entry (id, 28-character hash, overhead): 20k entries are ~5 MB at most. */
export const PUBLISHED_VERSIONS_LIMITS: BoundedCacheLimits = { maxEntries: 20_000, maxBytes: 6 * 1024 * 1024 }

const fingerprintOf = (record: unknown): string => createHash('sha1').update(JSON.stringify(record)).digest('base64')
const idOf = (record: unknown): string | null => {
  const id = (record as { id?: unknown } | null)?.id
  return typeof id === 'string' ? id : null
}

export class PublishedVersions {
  private readonly byId: BoundedCache<string>

  constructor(limits: BoundedCacheLimits = PUBLISHED_VERSIONS_LIMITS) {
    this.byId = new BoundedCache(limits, (fingerprint) => 16 + fingerprint.length)
  }

  get size(): number {
    return this.byId.size
  }

  get bytes(): number {
    return this.byId.bytes
  }

  /** True when exactly this version of the record was the last one published (and is still kept). */
  has(record: unknown): boolean {
    const id = idOf(record)
    return id !== null && this.byId.peek(id) === fingerprintOf(record)
  }

  /** Call only after the change log stored the records. */
  remember(records: readonly unknown[]): void {
    for (const record of records) {
      const id = idOf(record)
      if (id !== null) this.byId.set(id, fingerprintOf(record))
    }
  }
}
