// A digest of everything a projection writes: every row of every view table (users with their
// index columns, folded states, teams, locations, HR records, the audit change log) in a stable
// order, and the views' checkpoints. Two projections of the same events — one event per
// transaction, a rebuild in large batches, several tenant shards — must give the same digest.
import { createHash } from 'node:crypto'
import type { SqlQueryable } from '../sql/database.ts'

const tables: Array<[table: string, order: string]> = [
  ['view_users', 'tenant, external_id'],
  ['view_entity_states', 'tenant, category, id'],
  ['view_teams', 'tenant, id'],
  ['view_locations', 'tenant, id'],
  ['view_hr_records', 'tenant, kind, id'],
  ['audit_changes', 'tenant, position'],
]

/** Every row of every view table, in a stable order (the checkpoints apart: see `viewsDigest`). */
export async function dumpViews(db: SqlQueryable): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {}
  for (const [table, order] of tables) out[table] = (await db.query(`SELECT * FROM ${table} ORDER BY ${order}`)).rows
  return out
}

/** sha256 of the dump, as JSON with keys sorted (jsonb columns come back with their own key order). */
export async function viewsDigest(db: SqlQueryable): Promise<string> {
  return createHash('sha256').update(stableJson(await dumpViews(db))).digest('hex')
}

function stableJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString())
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value ?? null)
}
