// Comparing Kombo records the way the domain sees them: key order never matters, a missing field
// means the same as null (Kombo leaves out or nulls fields at will), and nested values compare deep.

/** Drops undefined/null members and sorts keys so that two equal values have equal shapes. */
export function normaliseValue(value: unknown): unknown {
  if (value === null || value === undefined) return null
  if (Array.isArray(value)) return value.map(normaliseValue)
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value as object).sort()) {
      const v = normaliseValue((value as Record<string, unknown>)[key])
      if (v !== null) out[key] = v
    }
    return out
  }
  return value
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(normaliseValue(a)) === JSON.stringify(normaliseValue(b))
}

/** Keys present (with a non-null value) in either record. */
export function unionKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
}

/**
 * Top-level fields whose value differs between `before` and `after`, with the new value; a field
 * that disappeared is reported as null so that folding the change clears it.
 */
export function changedFields(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  ignore: ReadonlySet<string>,
  equal: (key: string, a: unknown, b: unknown) => boolean = (_k, a, b) => deepEqual(a, b),
): Record<string, unknown> {
  const changes: Record<string, unknown> = {}
  for (const key of unionKeys(before, after)) {
    if (ignore.has(key)) continue
    if (!equal(key, before[key], after[key])) changes[key] = after[key] ?? null
  }
  return changes
}

const identityFields = new Set(['id', 'changed_at', 'remote_deleted_at'])
const isEmpty = (v: unknown) =>
  v === null || v === undefined || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0)

/**
 * Kombo's deletion policy: 14 days after a record was marked deleted (`remote_deleted_at`), every
 * other field is nulled. Such a record says nothing about the person or thing any more; it is a
 * purge, not a change of values.
 */
export function isPurgedRecord(record: Record<string, unknown>): boolean {
  if (!record.remote_deleted_at) return false
  return Object.entries(record).every(([key, value]) => identityFields.has(key) || isEmpty(value))
}

/** Compares timestamps as instants ("…Z" and "…+00:00" are the same moment). */
export function isBefore(a: string, b: string): boolean {
  return Date.parse(a) < Date.parse(b)
}
