// The change log as CSV (RFC 4180): one row per field change, so a spreadsheet can filter on the
// field; an entry that names no field still has its row. A tenant entry has no userId (empty). Values that are not strings are JSON.
import type { ChangeLogEntry } from '../../schemas/audit.ts'

export const csvColumns = ['eventId', 'userId', 'type', 'at', 'recordedAt', 'field', 'before', 'after', 'causeKind', 'causeActor', 'causePollId'] as const

const cell = (value: unknown): string => {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)
  // A leading =, +, - or @ would be run as a formula by spreadsheets: quote it as text.
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text
  return /[",\r\n]/.test(safe) || safe !== text ? `"${safe.replaceAll('"', '""')}"` : safe
}

export function changesCsv(entries: ChangeLogEntry[]): string {
  const lines = [csvColumns.join(',')]
  for (const e of entries) {
    const changes = e.changes.length > 0 ? e.changes : [{ field: '', before: null, after: null }]
    for (const c of changes) {
      lines.push([e.eventId, e.userId, e.type, e.at, e.recordedAt, c.field, c.before, c.after, e.cause.kind, e.cause.actor, 'pollId' in e.cause ? e.cause.pollId : undefined].map(cell).join(','))
    }
  }
  return lines.join('\r\n') + '\r\n'
}
