// One resource's records in Kombo's change order, (changed_at, id), so a list page costs
// O(log n + page) instead of copying and sorting the whole resource for every request.
// The change clock only moves forward, so every write lands at the end: an update appends the new
// version and leaves the old one behind as a stale entry, skipped on reads and compacted away once
// stale entries are the majority.
import type { SimRecord } from './generate-company.ts'

/** A position in change order: records strictly after it are read. `id: null` means after every id at `at`. */
export interface ChangePosition {
  at: number
  id: string | null
}

interface Entry {
  at: number
  id: string
  record: SimRecord
  /** A later version of the record exists. */
  superseded: boolean
}

const compare = (a: Entry, at: number, id: string | null): number =>
  a.at !== at ? a.at - at : id === null ? -1 : a.id < id ? -1 : a.id > id ? 1 : 0

export class ChangeIndex {
  private entries: Entry[] = []
  private readonly live = new Map<string, Entry>()
  private stale = 0

  constructor(records: Iterable<SimRecord> = []) {
    for (const record of records) this.entries.push({ at: Date.parse(record.changed_at), id: record.id, record, superseded: false })
    this.entries.sort((a, b) => compare(a, b.at, b.id))
    for (const entry of this.entries) this.supersede(entry)
  }

  get size(): number {
    return this.live.size
  }

  get(id: string): SimRecord | undefined {
    return this.live.get(id)?.record
  }

  has(id: string): boolean {
    return this.live.has(id)
  }

  /** Records in insertion order (the order callers must not rely on). */
  *values(): Generator<SimRecord> {
    for (const entry of this.live.values()) yield entry.record
  }

  /** Stores a new version; its changed_at must not sort before the newest entry (the change clock guarantees it). */
  set(record: SimRecord): void {
    const entry = { at: Date.parse(record.changed_at), id: record.id, record, superseded: false }
    const last = this.entries[this.entries.length - 1]
    if (last && compare(last, entry.at, entry.id) > 0)
      throw new RangeError(`${record.id} changed at ${record.changed_at}, before the newest change; the change clock must only move forward`)
    this.supersede(entry)
    this.entries.push(entry)
    if (this.stale > 1_000 && this.stale > this.entries.length / 2) this.compact()
  }

  /** Current records strictly after `from` (all when null), in change order. Not copies. */
  *after(from: ChangePosition | null = null): Generator<SimRecord> {
    for (let i = from ? this.firstAfter(from) : 0; i < this.entries.length; i++) {
      const entry = this.entries[i]
      if (!entry.superseded) yield entry.record
    }
  }

  /** Every current record in change order, not copies (one pass, for callers that need them all). */
  all(): SimRecord[] {
    const out: SimRecord[] = []
    for (const entry of this.entries) if (!entry.superseded) out.push(entry.record)
    return out
  }

  private firstAfter(from: ChangePosition): number {
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compare(this.entries[mid], from.at, from.id) <= 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private supersede(entry: Entry): void {
    const previous = this.live.get(entry.id)
    if (previous) {
      previous.superseded = true
      this.stale++
    }
    this.live.set(entry.id, entry)
  }

  private compact(): void {
    this.entries = this.entries.filter((e) => !e.superseded)
    this.stale = 0
  }
}
