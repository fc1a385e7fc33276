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
 * Streams kept (the processor's `tuning.processor.cacheStreams` overrides it) and their approximate
 * bytes. Constants, not configuration: they bound memory, they are not a knob operators need; a
 * folded employee state is about 1-3 KB, so 10k streams fit well within 32 MiB, and the byte bound
 * only bites when records are unusually big (it then keeps fewer, never more memory).
 */
export const DEFAULT_STREAM_CACHE_SIZE = 10_000
export const DEFAULT_STREAM_CACHE_BYTES = 32 * 1024 * 1024

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

  set(stream: string, entry: CachedStreamState): void {
    this.cache.set(stream, entry)
  }

  delete(stream: string): void {
    this.cache.delete(stream)
  }

  clear(): void {
    this.cache.clear()
  }
}
