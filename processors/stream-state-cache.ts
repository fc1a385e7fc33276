// A bounded, least-recently-used cache of folded stream states with the revision they were folded
// up to. It only saves the processor a read + fold: every append made from a cached state carries
// that revision as its expected revision, so a stale entry (another writer appended meanwhile)
// costs one WrongExpectedRevisionError and a reload, never a wrong append.
export interface CachedStreamState<S = unknown> {
  /** The folded state (immutable: fold and evolve return new objects). */
  state: S
  /** The revision of the stream's last event folded into `state`, or 'no_stream'. */
  revision: bigint | 'no_stream'
}

export const DEFAULT_STREAM_CACHE_SIZE = 10_000

export class StreamStateCache {
  // A Map iterates in insertion order: re-inserting on every hit keeps the oldest entry first.
  private readonly entries = new Map<string, CachedStreamState>()

  constructor(readonly capacity = DEFAULT_STREAM_CACHE_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`stream cache capacity must be a non-negative integer, got ${capacity}`)
  }

  get size(): number {
    return this.entries.size
  }

  get(stream: string): CachedStreamState | undefined {
    const entry = this.entries.get(stream)
    if (entry) {
      this.entries.delete(stream)
      this.entries.set(stream, entry)
    }
    return entry
  }

  set(stream: string, entry: CachedStreamState): void {
    if (this.capacity === 0) return
    this.entries.delete(stream)
    this.entries.set(stream, entry)
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!)
  }

  delete(stream: string): void {
    this.entries.delete(stream)
  }

  clear(): void {
    this.entries.clear()
  }
}

