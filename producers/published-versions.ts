// Every record version this poller published, per resource, by id: the baseline the periodic full
// reconcile compares Kombo's full listing against, so it publishes only what differs (a change the
// incremental polls missed, e.g. stamped before the watermark) and can count it.
//
// Unlike RecentlyPublished (the last overlap window only) this keeps one fingerprint per record
// for the process's lifetime (an id and a 28-character hash: a few MB for 100k records). Kept in
// memory only: after a restart the first reconcile finds no baseline and publishes every record
// once; downstream folding is idempotent, so that appends nothing for unchanged records, but the
// "differed" count of that one reconcile includes them.
import { createHash } from 'node:crypto'

const fingerprintOf = (record: unknown): string => createHash('sha1').update(JSON.stringify(record)).digest('base64')
const idOf = (record: unknown): string | null => {
  const id = (record as { id?: unknown } | null)?.id
  return typeof id === 'string' ? id : null
}

export class PublishedVersions {
  private readonly byId = new Map<string, string>()

  get size(): number {
    return this.byId.size
  }

  /** True when exactly this version of the record was the last one published. */
  has(record: unknown): boolean {
    const id = idOf(record)
    return id !== null && this.byId.get(id) === fingerprintOf(record)
  }

  /** Call only after the change log stored the records. */
  remember(records: readonly unknown[]): void {
    for (const record of records) {
      const id = idOf(record)
      if (id !== null) this.byId.set(id, fingerprintOf(record))
    }
  }
}
