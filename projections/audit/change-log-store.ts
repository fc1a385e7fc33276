// The tenant-wide change log on SQL (embedded PGlite or PostgreSQL): one row per audit entry,
// written by the projector in the same transaction as the views (so it is rebuilt with them and
// never runs ahead or behind), read by `GET /changes` with keyset pagination. Indexed so a page is
// an index range scan whatever the table's size: on HR time, on recorded time, and per user/type.
import type { SqlDatabase, SqlQueryable } from '../../sql/database.ts'
import type { ChangeEntry, ChangeEntryType, ChangeField } from '../../schemas/audit.ts'
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
  type?: ChangeEntryType
  userId?: string
  field?: ChangeField
  limit: number
  cursor?: string
}

export interface ChangeLogReader {
  listChanges(tenant: string, query: ChangeQuery): Promise<Page<ChangeEntry>>
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
       FROM jsonb_to_recordset($2::jsonb) AS r(position bigint, user_id text, event_id text, type text, at timestamptz,
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
  if (!c || typeof c.t !== 'string' || Number.isNaN(Date.parse(c.t)) || typeof c.p !== 'string' || !/^\d+$/.test(c.p) || (c.axis !== 'hr' && c.axis !== 'recorded')) {
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

export function openChangeLogReader(db: SqlQueryable): ChangeLogReader {
  return {
    async listChanges(tenant, query) {
      const column = query.axis === 'recorded' ? 'recorded_at' : 'at'
      const after = decodeCursor(query.cursor, query.axis)
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
         WHERE ${where.join(' AND ')} ORDER BY ${column}, position LIMIT $${params.push(query.limit + 1)}`,
        params,
      )
      const data = rows.slice(0, query.limit)
      const entries = data.map((r) => ({
        userId: r.user_id,
        type: r.type as ChangeEntryType,
        at: iso(r.at),
        recordedAt: iso(r.recorded_at),
        changes: r.changes,
        cause: r.cause,
        eventId: r.event_id,
      }))
      const last = data[data.length - 1]
      const next = rows.length > query.limit ? encodeCursor({ axis: query.axis, t: iso(query.axis === 'recorded' ? last.recorded_at : last.at), p: String(last.position) }) : null
      return { data: entries, next }
    },
  }
}

export async function migrateChangeLog(db: SqlDatabase): Promise<void> {
  await db.exec(changeLogMigration)
}
