// The plaintexts a process opened lately, so that a second reader of the same events does not open
// them again. Why: the projector's views and its user feed are two subscriptions over the same
// employee events, read moments apart, and each opened every event itself (AES-GCM, base64 and
// JSON.parse of ~1-2 KB): the event store decorator was 12 % of the projector's CPU in a 20k sync
// (2026-12-08 profile), half of it the second opening.
//
// An entry is found by the stream (bound into the ciphertext as its AAD) with the sealed IV and tag,
// and answers only for the very ciphertext it was opened from (compared whole), so a hit is what
// opening would have given. Erasure is checked before the memo is asked (encrypting.ts), and
// entries expire after `ttlMs`, swept on a timer, so an erased employee's plaintext stays in memory
// no longer than a batch in flight would. Bounded by count and bytes (processors/bounded-cache.ts).
// The opened data is shared by the readers that ask for it: event data is never modified in place.
import { BoundedCache } from '../bounded-cache.ts'

export interface OpenedPlaintextLimits {
  /** Entries kept at most (default 10,000: a few subscription pages of lag between two readers). */
  maxEntries?: number
  /** Approximate bytes kept at most (default 16 MiB). */
  maxBytes?: number
  /** How long an entry answers after it was opened (default 30 s). */
  ttlMs?: number
}

interface Opened {
  ciphertext: string
  data: Record<string, unknown>
  at: number
}

/** The V8 heap a parsed JSON object takes per byte of its text, rounded up (bounded-cache.ts calibration: 4.7 KB for 4.0 KB). */
const HEAP_PER_JSON_BYTE = 1.2

export class OpenedPlaintexts {
  private readonly cache: BoundedCache<Opened>
  private readonly ttlMs: number
  private readonly sweeper: NodeJS.Timeout

  constructor(limits: OpenedPlaintextLimits = {}, private readonly now: () => number = Date.now) {
    this.cache = new BoundedCache<Opened>({ maxEntries: limits.maxEntries ?? 10_000, maxBytes: limits.maxBytes ?? 16 * 1024 * 1024 })
    this.ttlMs = limits.ttlMs ?? 30_000
    this.sweeper = setInterval(() => this.sweep(), this.ttlMs).unref()
  }

  /** The data opened from exactly this ciphertext of the stream, if still held. */
  get(stream: string, iv: string, tag: string, ciphertext: string): Record<string, unknown> | undefined {
    const key = keyOf(stream, iv, tag)
    const opened = this.cache.peek(key)
    if (!opened || opened.ciphertext !== ciphertext) return undefined
    if (this.now() - opened.at >= this.ttlMs) {
      this.cache.delete(key)
      return undefined
    }
    return opened.data
  }

  /** Keeps what `ciphertext` opened to; `plainBytes` is the length of its JSON text. */
  set(stream: string, iv: string, tag: string, ciphertext: string, data: Record<string, unknown>, plainBytes: number): void {
    this.cache.set(keyOf(stream, iv, tag), { ciphertext, data, at: this.now() }, ciphertext.length + Math.ceil(plainBytes * HEAP_PER_JSON_BYTE))
  }

  /** Entries held now. */
  get size(): number {
    return this.cache.size
  }

  /** Drops the expired entries (run on the timer; entries are in the order they were opened). */
  sweep(): void {
    const expiredBefore = this.now() - this.ttlMs
    for (const [key, opened] of this.cache.entries()) {
      if (opened.at > expiredBefore) break
      this.cache.delete(key)
    }
  }

  /** Drops everything and stops the sweeping timer. */
  close(): void {
    clearInterval(this.sweeper)
    this.cache.clear()
  }
}

const keyOf = (stream: string, iv: string, tag: string) => `${stream}\u0000${iv}${tag}`
