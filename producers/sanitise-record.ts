// The poller's edge: a record Kombo sent is made storable before it reaches the change log, or
// rejected with a reason (the poller keeps it in the dead-letter store).
//
// Why here and not downstream: PostgreSQL (and PGlite) refuse a NUL character in text and jsonb and
// a lone UTF-16 surrogate in jsonb, and a record nested thousands deep overflows encoders and
// folding. Such a record passes the resource schema, is published, and then fails to store forever —
// in the embedded default it blocked every resource of every tenant behind it. Strings are
// repaired (NUL removed, a lone surrogate replaced by U+FFFD): the value is still the employee's
// name, minus a byte no HR system means. Ids are not repaired, because a repaired id would name a
// different entity: a record whose id holds either is rejected.

/** Deepest nesting of objects/arrays accepted (Kombo's deepest real shape is about 4). */
export const DEFAULT_MAX_RECORD_DEPTH = 32
/** Largest record accepted, as JSON text in UTF-8 bytes (real employees are a few KB). */
export const DEFAULT_MAX_RECORD_BYTES = 256 * 1024

export interface SanitiseLimits {
  maxDepth?: number
  maxBytes?: number
}

export type SanitisedRecord =
  | { ok: true; record: unknown; /** True when a string had to be repaired. */ repaired: boolean }
  | { ok: false; reason: string }

// A lone high surrogate (not followed by a low one) or a lone low surrogate (not preceded by a high one).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
const UNSTORABLE = /\u0000|[\uD800-\uDFFF]/

export function repairString(s: string): string {
  if (!UNSTORABLE.test(s)) return s
  return s.replaceAll('\u0000', '').replace(LONE_SURROGATE, '\uFFFD')
}

const hasUnstorable = (s: string): boolean => s !== s.replaceAll('\u0000', '').replace(LONE_SURROGATE, '\uFFFD')

export function sanitiseRecord(record: unknown, limits: SanitiseLimits = {}): SanitisedRecord {
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_RECORD_DEPTH
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_RECORD_BYTES
  // Depth first, without recursion: a record 100,000 deep must not overflow our own stack.
  const depth = nestingDepth(record, maxDepth)
  if (depth > maxDepth) return { ok: false, reason: `the record is nested deeper than ${maxDepth} levels` }
  const id = (record as { id?: unknown } | null)?.id
  if (typeof id === 'string' && hasUnstorable(id)) {
    return { ok: false, reason: 'the record id holds a NUL character or a lone surrogate (cannot be stored, and repairing it would name another record)' }
  }
  let repaired = false
  const copy = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const fixed = repairString(value)
      if (fixed !== value) repaired = true
      return fixed
    }
    if (Array.isArray(value)) return value.map(copy)
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) {
        const key = repairString(k)
        if (key !== k) repaired = true
        out[key] = copy(v)
      }
      return out
    }
    return value
  }
  const clean = copy(record)
  const bytes = Buffer.byteLength(JSON.stringify(clean) ?? '')
  if (bytes > maxBytes) return { ok: false, reason: `the record is ${bytes} bytes of JSON, more than the ${maxBytes} accepted` }
  return { ok: true, record: clean, repaired }
}

/** The nesting depth of `value` (a scalar is 0), counting no further than `stopAfter` + 1. */
function nestingDepth(value: unknown, stopAfter: number): number {
  let deepest = 0
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }]
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    const d = depth + 1
    if (d > deepest) deepest = d
    if (deepest > stopAfter) return deepest
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: d })
    }
  }
  return deepest
}
