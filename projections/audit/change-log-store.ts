// The tenant-wide change log on SQL (embedded PGlite or PostgreSQL): one row per audit entry,
// written by the projector in the same transaction as the views (so it is rebuilt with them and
// never runs ahead or behind), read by `GET /changes` with keyset pagination. Indexed so a page is
// an index range scan whatever the table's size: on HR time, on recorded time, and per user/type.
import type { SqlDatabase, SqlQueryable } from '../../sql/database.ts'
import { changeEntryTypes, type ChangeEntry, type ChangeField, type ChangeLogEntry, type ChangeLogEntryType } from '../../schemas/audit.ts'
import { InvalidCursorError, type Page } from '../viewstore/port.ts'

export const changeLogMigration = `
CREATE TABLE IF NOT EXISTS audit_changes (
  tenant text NOT NULL, position bigint NOT NULL, user_id text NOT NULL, event_id text NOT NULL,
  type text NOT NULL, at timestamptz NOT NULL, recorded_at timestamptz NOT NULL,
  fields text[] NOT NULL, changes jsonb NOT NULL, cause jsonb NOT NULL, PRIMARY KEY (tenant, position));
CREATE INDEX IF NOT EXISTS audit_changes_at ON audit_changes (tenant, at, position);
CREATE INDEX IF NOT EXISTS audit_changes_recorded ON audit_changes (tenant, recorded_at, position);
CREATE INDEX IF NOT EXISTS audit_changes_user ON audit_changes (tenant, user_id, at, position);
CREATE INDEX IF NOT EXISTS audit_changes_type ON audit_changes (tenant, type, at, position);
`

export type ChangeAxis = 'hr' | 'recorded'

export interface ChangeQuery {
  /** Which time `from`, `to` and the order refer to (default HR time). */
  axis: ChangeAxis
  /** Inclusive. */
  from?: string
  /** Exclusive. */
  to?: string
  type?: ChangeLogEntryType
  userId?: string
  field?: ChangeField
  limit: number
  cursor?: string
}

/** Without a merged source, every entry is a user's (`ChangeEntry`). */
export interface ChangeLogReader<E extends ChangeLogEntry = ChangeLogEntry> {
  listChanges(tenant: string, query: ChangeQuery): Promise<Page<E>>
}

/** A position in the log's order: the time on the axis (ISO, any fraction) and a position in its source. */
export interface ChangeKey {
  t: string
  p: string
}

/**
 * Entries kept elsewhere and merged into the log in the same order (the tenant's own audit trail,
 * tenants/change-log.ts): on equal time, after the events' entries, then by `p`.
 */
export interface ChangeSource {
  /** Whether any of its entries can match (e.g. not when the query names a user). */
  serves(query: ChangeQuery): boolean
  /** At most `limit` entries strictly after `after`, ordered by (time, p). */
  list(tenant: string, query: ChangeQuery, after: ChangeKey | null, limit: number): Promise<Array<{ entry: ChangeLogEntry; key: ChangeKey }>>
}

export interface RecordedChange {
  entry: ChangeEntry
  position: bigint
}

const ROWS_PER_STATEMENT = 5000

/** Writes entries inside the caller's transaction; a repeated position (a retried batch) is kept once. */
export async function insertChanges(tx: SqlQueryable, tenant: string, rows: RecordedChange[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT)
    await tx.query(
      `INSERT INTO audit_changes (tenant, position, user_id, event_id, type, at, recorded_at, fields, changes, cause)
       SELECT $1, r.position, r.user_id, r.event_id, r.type, r.at, r.recorded_at, r.fields, r.changes, r.cause
       FROM json_to_recordset($2::json) AS r(position bigint, user_id text, event_id text, type text, at timestamptz,
         recorded_at timestamptz, fields text[], changes jsonb, cause jsonb)
       ON CONFLICT (tenant, position) DO NOTHING`,
      [
        tenant,
        JSON.stringify(
          chunk.map(({ entry, position }) => ({
            position: position.toString(),
            user_id: entry.userId,
            event_id: entry.eventId,
            type: entry.type,
            at: entry.at,
            recorded_at: entry.recordedAt,
            fields: entry.changes.map((c) => c.field),
            changes: entry.changes,
            cause: entry.cause,
          })),
        ),
      ],
    )
  }
}

/** An erased employee's entries go with the rest of their personal data. */
export async function purgeUserChanges(tx: SqlQueryable, tenant: string, userId: string): Promise<void> {
  await tx.query('DELETE FROM audit_changes WHERE tenant = $1 AND user_id = $2', [tenant, userId])
}

interface Cursor {
  axis: ChangeAxis
  /** The last row's time on the axis (ISO) and its position. */
  t: string
  p: string
  /** 1: the row was the merged source's (absent: the events'). */
  s?: 1
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url')
function decodeCursor(cursor: string | undefined, axis: ChangeAxis): Cursor | null {
  if (!cursor) return null
  let c: Partial<Cursor> | null = null
  try {
    c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>
  } catch {
    /* reported below */
  }
  if (!c || typeof c.t !== 'string' || Number.isNaN(Date.parse(c.t)) || typeof c.p !== 'string' || !/^\d+$/.test(c.p) || (c.axis !== 'hr' && c.axis !== 'recorded') || (c.s !== undefined && c.s !== 1)) {
    throw new InvalidCursorError('the cursor is not one this API returned; start again without it')
  }
  if (c.axis !== axis) throw new InvalidCursorError(`the cursor belongs to axis=${c.axis}; ask with the same axis or start again without it`)
  return c as Cursor
}

interface Row {
  position: string
  user_id: string
  event_id: string
  type: string
  at: Date | string
  recorded_at: Date | string
  changes: ChangeEntry['changes']
  cause: ChangeEntry['cause']
}

const iso = (v: Date | string) => new Date(v).toISOString()

const MAX_POSITION = '9223372036854775807'
const isEventType = (type: string) => (changeEntryTypes as readonly string[]).includes(type)
/** ISO times compared across sources: the fraction padded to microseconds. */
const sortable = (t: string) => t.replace(/(\.\d+)?Z$/, (_, f: string | undefined) => `${(f ?? '.').padEnd(7, '0')}Z`)

async function eventEntries(db: SqlQueryable, tenant: string, query: ChangeQuery, after: ChangeKey | null, limit: number): Promise<Array<{ entry: ChangeEntry; key: ChangeKey }>> {
  const column = query.axis === 'recorded' ? 'recorded_at' : 'at'
  const params: unknown[] = [tenant]
  const where = ['tenant = $1']
  if (query.from) where.push(`${column} >= $${params.push(query.from)}::timestamptz`)
  if (query.to) where.push(`${column} < $${params.push(query.to)}::timestamptz`)
  if (query.type) where.push(`type = $${params.push(query.type)}`)
  if (query.userId) where.push(`user_id = $${params.push(query.userId)}`)
  if (query.field) where.push(`fields @> ARRAY[$${params.push(query.field)}]::text[]`)
  if (after) where.push(`(${column}, position) > ($${params.push(after.t)}::timestamptz, $${params.push(after.p)}::bigint)`)
  const { rows } = await db.query<Row>(
    `SELECT position, user_id, event_id, type, at, recorded_at, changes, cause FROM audit_changes
     WHERE ${where.join(' AND ')} ORDER BY ${column}, position LIMIT $${params.push(limit)}`,
    params,
  )
  return rows.map((r) => ({
    entry: { userId: r.user_id, type: r.type as ChangeEntry['type'], at: iso(r.at), recordedAt: iso(r.recorded_at), changes: r.changes, cause: r.cause, eventId: r.event_id },
    key: { t: iso(query.axis === 'recorded' ? r.recorded_at : r.at), p: String(r.position) },
  }))
}

/** `more`: a source merged in (the tenant audit trail); the cursor says which source the last row came from. */
export function openChangeLogReader(db: SqlQueryable): ChangeLogReader<ChangeEntry>
export function openChangeLogReader(db: SqlQueryable, more: ChangeSource): ChangeLogReader
export function openChangeLogReader(db: SqlQueryable, more?: ChangeSource): ChangeLogReader {
  return {
    async listChanges(tenant, query) {
      const after = decodeCursor(query.cursor, query.axis)
      const n = query.limit + 1
      // After a merged row at time t, every event entry at t came before it (events first on a tie).
      const events = !query.type || isEventType(query.type) ? await eventEntries(db, tenant, query, after && (after.s ? { t: after.t, p: MAX_POSITION } : after), n) : []
      const merged = more?.serves(query) ? await more.list(tenant, query, after && (after.s ? after : { t: after.t, p: '0' }), n) : []
      const rows = [...events.map((r) => ({ ...r, s: 0 })), ...merged.map((r) => ({ ...r, s: 1 }))]
        .sort((a, b) => sortable(a.key.t).localeCompare(sortable(b.key.t)) || a.s - b.s || (BigInt(a.key.p) < BigInt(b.key.p) ? -1 : BigInt(a.key.p) > BigInt(b.key.p) ? 1 : 0))
        .slice(0, n)
      const data = rows.slice(0, query.limit)
      const last = data[data.length - 1]
      const next = rows.length > query.limit ? encodeCursor({ axis: query.axis, t: last.key.t, p: last.key.p, ...(last.s ? { s: 1 as const } : {}) }) : null
      return { data: data.map((r) => r.entry), next }
    },
  }
}

export async function migrateChangeLog(db: SqlDatabase): Promise<void> {
  await db.exec(changeLogMigration)
}

/**
 * The secondary indexes of audit_changes (the primary key stays: a retried batch's ON CONFLICT
 * needs it). A rebuild writes about one row per employee event into an empty table: it drops these
 * first and builds each once at the end (`migrateChangeLog`), instead of updating four B-trees per
 * row. Crash-safe: every open of the view store runs the migration, whose CREATE INDEX IF NOT
 * EXISTS restores whatever an interrupted rebuild left dropped.
 */
export const changeLogSecondaryIndexes = ['audit_changes_at', 'audit_changes_recorded', 'audit_changes_user', 'audit_changes_type'] as const

export async function dropChangeLogIndexes(db: SqlDatabase): Promise<void> {
  await db.exec(changeLogSecondaryIndexes.map((name) => `DROP INDEX IF EXISTS ${name};`).join('\n'))
}
