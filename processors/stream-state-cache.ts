// A bounded, least-recently-used cache of folded stream states with the revision they were folded
// up to. It only saves the processor a read + fold: every append made from a cached state carries
// that revision as its expected revision, so a stale entry (another writer appended meanwhile)
// costs one WrongExpectedRevisionError and a reload, never a wrong append; and an evicted entry
// costs one read + fold, exactly as if it had never been cached.
import { BoundedCache, approximateBytes } from './bounded-cache.ts'

export interface CachedStreamState<S = unknown> {
  /** The folded state (immutable: fold and evolve return new objects). */
  state: S
  /** The revision of the stream's last event folded into `state`, or 'no_stream'. */
  revision: bigint | 'no_stream'
}

/**
 * Streams kept (the processor's `tuning.processor.cacheStreams` overrides the count) and their
 * approximate bytes. Constants, not configuration: they bound memory, they are not a knob an
 * operator needs. A folded employee state of the simulator's records (4 KB of JSON) takes ~5 KB,
 * so 32 MiB keeps ~6k of those and the full 10k of smaller ones (teams, absences); an evicted
 * state costs one read + fold the next time its stream changes.
 */
export const DEFAULT_STREAM_CACHE_SIZE = 10_000
export const DEFAULT_STREAM_CACHE_BYTES = 32 * 1024 * 1024

/**
 * A folded state's heap size from the JSON size of the record it was folded from (a state is the
 * record plus a few fields). Measured on employee states: 4.0 KB of JSON, 4.7 KB on the heap.
 */
export const stateBytesFromJson = (jsonBytes: number): number => Math.ceil(jsonBytes * 1.25) + 256

export class StreamStateCache {
  private readonly cache: BoundedCache<CachedStreamState>

  constructor(
    readonly capacity = DEFAULT_STREAM_CACHE_SIZE,
    readonly maxBytes = DEFAULT_STREAM_CACHE_BYTES,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`stream cache capacity must be a non-negative integer, got ${capacity}`)
    this.cache = new BoundedCache({ maxEntries: capacity, maxBytes }, (entry) => 16 + approximateBytes(entry.state))
  }

  get size(): number {
    return this.cache.size
  }

  /** Approximate bytes of the states held. */
  get bytes(): number {
    return this.cache.bytes
  }

  get evictions(): number {
    return this.cache.evictions
  }

  get(stream: string): CachedStreamState | undefined {
    return this.cache.get(stream)
  }

  /**
   * `bytes`: the state's size when the caller knows it (stateBytesFromJson), which saves walking
   * the state on every append; else the state is walked (approximateBytes).
   */
  set(stream: string, entry: CachedStreamState, bytes?: number): void {
    this.cache.set(stream, entry, bytes === undefined ? undefined : 16 + bytes)
  }

  delete(stream: string): void {
    this.cache.delete(stream)
  }

  clear(): void {
    this.cache.clear()
  }
}
