// Event data as a reload would see it: the stores keep JSON, so a value folded from a reload has
// no `undefined` members, no Dates (ISO strings instead), no non-finite numbers (null) and no
// class instances. The processor folds its own decided events into the cached state, which must
// be exactly the state a reload would fold. A JSON round trip per event gives that, at a cost on
// the hot path; the deciders' data is almost always plain JSON already, so this walks it once and
// returns the very same object when it is, and falls back to the round trip only when it is not.

/** True when JSON.parse(JSON.stringify(value)) would deep-equal `value` (plain JSON values only). */
export function isPlainJson(value: unknown, depth = 0): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0)
  if (typeof value !== 'object' || depth > 64) return false
  if (Array.isArray(value)) {
    for (const item of value) if (!isPlainJson(item, depth + 1)) return false
    return true
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return false
  // A `toJSON` member or a symbol key would change what JSON.stringify writes.
  if ('toJSON' in value || Object.getOwnPropertySymbols(value).length > 0) return false
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) return false
    if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false
  }
  return true
}

/** `data` as the store would give it back: the same object when it is plain JSON, else a JSON copy. */
export function asStored<T extends Record<string, unknown>>(data: T): T {
  return isPlainJson(data) ? data : (JSON.parse(JSON.stringify(data)) as T)
}
