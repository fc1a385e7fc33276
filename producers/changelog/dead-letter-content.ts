// What the dead-letter stores share: the dedupe scope and hash of a letter, and the raw-size cap.
import { createHash } from 'node:crypto'
import { MAX_STORED_RAW_BYTES, type DeadLetter, type DeadLetterListOptions, type NewDeadLetter } from './port.ts'

export const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')

/** The tenant of a letter: its key is `tenant:entityId`. */
export const tenantOf = (key: string | null): string | null => {
  const i = key?.indexOf(':') ?? -1
  return i > 0 ? key!.slice(0, i) : null
}

export const resourceOf = (origin: Record<string, unknown>): string | null => (typeof origin.resource === 'string' ? origin.resource : null)

/**
 * The hash the processor dedupes a change by: its record's JSON when the change decoded (so the
 * envelope's poll id and fetch time do not make each re-read a new letter), else the raw bytes.
 */
export function contentHashOfChange(value: unknown, raw: Buffer): string {
  const record = (value as { record?: unknown } | null)?.record
  if (record === undefined) return sha256Hex(raw)
  try {
    return sha256Hex(JSON.stringify(record))
  } catch {
    return sha256Hex(raw)
  }
}

/** The letter as stored: hash, original size, and the raw bytes capped. */
export function prepareLetter(letter: NewDeadLetter): { contentHash: string; rawSize: number; raw: Buffer; tenant: string | null; resource: string | null } {
  return {
    contentHash: letter.contentHash ?? sha256Hex(letter.raw),
    rawSize: letter.raw.length,
    raw: letter.raw.length > MAX_STORED_RAW_BYTES ? letter.raw.subarray(0, MAX_STORED_RAW_BYTES) : letter.raw,
    tenant: tenantOf(letter.key),
    resource: resourceOf(letter.origin),
  }
}

/** The list filters over letters held in memory (newest first), for stores that filter in process. */
export function filterLetters(newestFirst: DeadLetter[], o: DeadLetterListOptions): DeadLetter[] {
  let shown = o.includeRedriven ? newestFirst : newestFirst.filter((l) => l.redrivenAt === null)
  if (o.tenant !== undefined) shown = shown.filter((l) => tenantOf(l.key) === o.tenant)
  if (o.resource !== undefined) shown = shown.filter((l) => resourceOf(l.origin) === o.resource)
  if (o.reason !== undefined) shown = shown.filter((l) => l.reason.toLowerCase().includes(o.reason!.toLowerCase()))
  if (o.before !== undefined) {
    const i = shown.findIndex((l) => l.id === o.before)
    shown = i === -1 ? [] : shown.slice(i + 1)
  }
  return o.limit === undefined ? shown : shown.slice(0, o.limit)
}
