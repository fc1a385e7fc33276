// A least-recently-used cache bounded by BOTH its entry count and the approximate bytes of its
// values, so what it holds depends on its limits, never on how many entities a company has. Every
// user of it treats it as an optimisation: a miss (never cached, or evicted) costs a re-read or a
// repeat, never a wrong decision.
//
// Own code rather than the `lru-cache` package: that one is only a transitive dependency here
// (not declared in package.json), and a Map already iterates in insertion order, which is all an
// LRU needs (re-insert on every hit; the first key is the least recently used).

export interface BoundedCacheLimits {
  /** Entries kept at most (0 keeps none). */
  maxEntries: number
  /** Approximate bytes of keys and values kept at most (0 keeps none). */
  maxBytes: number
}

interface Slot<V> {
  value: V
  bytes: number
}

/** Bytes a Map entry and its slot cost besides the key's and the value's own (V8, 64-bit, rounded up). */
const ENTRY_OVERHEAD_BYTES = 80

export class BoundedCache<V> {
  private readonly slots = new Map<string, Slot<V>>()
  private bytesHeld = 0
  private evictedCount = 0

  /** `sizeOf` estimates a value's bytes when `set` is not told them (see approximateBytes). */
  constructor(
    readonly limits: BoundedCacheLimits,
    private readonly sizeOf: (value: V) => number = (value) => approximateBytes(value),
  ) {
    for (const [name, n] of Object.entries(limits)) {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`cache ${name} must be a non-negative integer, got ${n}`)
    }
  }

  get size(): number {
    return this.slots.size
  }

  /** Approximate bytes held now (keys, values and per-entry overhead). */
  get bytes(): number {
    return this.bytesHeld
  }

  /** Entries dropped to stay within the limits since the cache was made. */
  get evictions(): number {
    return this.evictedCount
  }

  /** The value, now the most recently used; undefined when absent. */
  get(key: string): V | undefined {
    const slot = this.slots.get(key)
    if (!slot) return undefined
    this.slots.delete(key)
    this.slots.set(key, slot)
    return slot.value
  }

  /** The value without changing its recency. */
  peek(key: string): V | undefined {
    return this.slots.get(key)?.value
  }

  /**
   * Stores the value as the most recently used, then drops the least recently used entries until
   * both limits hold. A value bigger than the whole byte budget is not kept (and any older value
   * of its key is dropped, so a later `get` cannot answer with that older value).
   */
  set(key: string, value: V, valueBytes?: number): void {
    this.delete(key)
    const bytes = key.length * 2 + (valueBytes ?? this.sizeOf(value)) + ENTRY_OVERHEAD_BYTES
    if (this.limits.maxEntries === 0 || bytes > this.limits.maxBytes) return
    this.slots.set(key, { value, bytes })
    this.bytesHeld += bytes
    while (this.slots.size > this.limits.maxEntries || this.bytesHeld > this.limits.maxBytes) {
      this.delete(this.slots.keys().next().value!)
      this.evictedCount += 1
    }
  }

  delete(key: string): void {
    const slot = this.slots.get(key)
    if (!slot) return
    this.slots.delete(key)
    this.bytesHeld -= slot.bytes
  }

  clear(): void {
    this.slots.clear()
    this.bytesHeld = 0
  }

  /** Drops every entry whose value matches (one pass over all entries). */
  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, slot] of this.slots) if (matches(slot.value)) this.delete(key)
  }

  /** Entries from the least to the most recently used (a snapshot: safe to delete while iterating). */
  entries(): Array<[string, V]> {
    return [...this.slots].map(([key, slot]) => [key, slot.value])
  }
}

/**
 * A rough size of a JSON-like value on V8's heap, in bytes: a string at 16 plus one a character
 * (Latin-1 strings take one; others take two, so this is low for them), a number or boolean at 8,
 * an object or array at 24 plus 8 a member (property names are shared between objects of one
 * shape) plus the members, a Buffer at its length. It walks the value (nothing serialised or
 * allocated), which costs about as much as a JSON.stringify of it: callers on a hot path pass a
 * size they already know instead (see StreamStateCache). Calibrated on folded employee states:
 * 4.7 KB of heap each after JSON.parse (4.0 KB of JSON), this says 5.6 KB.
 */
export function approximateBytes(value: unknown, depth = 0): number {
  // Deeper than any record we keep (and a guard against a cycle): counted as one small object.
  if (depth > 32) return 24
  switch (typeof value) {
    case 'string':
      return 16 + value.length
    case 'number':
    case 'boolean':
      return 8
    case 'bigint':
      return 16
    case 'object': {
      if (value === null) return 8
      if (Buffer.isBuffer(value)) return 64 + value.length
      if (value instanceof Date) return 32
      let bytes = 24
      if (Array.isArray(value)) {
        for (const item of value) bytes += 8 + approximateBytes(item, depth + 1)
        return bytes
      }
      for (const key in value) bytes += 8 + approximateBytes((value as Record<string, unknown>)[key], depth + 1)
      return bytes
    }
    default:
      return 8
  }
}
