// Deterministic randomness: the same seed must give the same company on every machine,
// so tests and demos can name records and reproduce a run.

export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number
  int(minInclusive: number, maxInclusive: number): number
  chance(probability: number): boolean
  pick<T>(items: readonly T[]): T
  /** A 24-character id shaped like Kombo's ids (they validate the length of `ids` filters). */
  id(): string
}

/** mulberry32: tiny, fast, good enough for test data (not for anything secret). */
export function createRng(seed: number): Rng {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1))
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new RangeError('cannot pick from an empty list')
      return items[int(0, items.length - 1)] as (typeof items)[number]
    },
    id: () => {
      let out = ''
      for (let i = 0; i < 24; i++) out += alphabet[int(0, alphabet.length - 1)]
      return out
    },
  }
}

/** Combines the simulator seed with an integration id so each tenant gets its own company. */
export function seedFor(seed: number, integrationId: string): number {
  // FNV-1a over "seed:integrationId"
  let hash = 0x811c9dc5
  for (const ch of `${seed}:${integrationId}`) {
    hash ^= ch.codePointAt(0) ?? 0
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}
