// Dead letters in a table of the embedded database (PGlite) or a PostgreSQL server: records that
// failed validation or processing, with the reason, where they came from and the original bytes.
import type { SqlDatabase } from '../../sql/database.ts'
import type { DeadLetter, DeadLetterStore } from './port.ts'
import { prepareLetter } from './dead-letter-content.ts'
import { KomboSyncError } from '../../errors/kombo-sync-error.ts'

const MIGRATION_LOCK = 0x6b6f6d626f00

/** The id names no dead letter; list the store to find the right one (retrying will not help). */
export class DeadLetterNotFoundError extends KomboSyncError {
  override name = 'DeadLetterNotFoundError'
  readonly retriable = false
  constructor(readonly id: string) {
    super(`no dead letter with id ${id}`)
  }
}

interface LetterRow {
  id: string | number | bigint
  at: Date | string
  reason: string
  origin: Record<string, unknown> | string
  key: string | null
  raw: Uint8Array
  redriven_at: Date | string | null
  content_hash: string | null
  raw_size: number | string | null
  seen: number | string
}

const iso = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString()

function toLetter(row: LetterRow): DeadLetter {
  return {
    id: String(row.id),
    at: iso(row.at),
    reason: row.reason,
    origin: typeof row.origin === 'string' ? (JSON.parse(row.origin) as Record<string, unknown>) : row.origin,
    key: row.key,
    raw: Buffer.isBuffer(row.raw) ? row.raw : Buffer.from(row.raw),
    redrivenAt: row.redriven_at == null ? null : iso(row.redriven_at),
    contentHash: row.content_hash ?? '',
    rawSize: row.raw_size == null ? row.raw.length : Number(row.raw_size),
    count: Number(row.seen),
  }
}

export async function openSqlDeadLetterStore(db: SqlDatabase): Promise<DeadLetterStore> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await tx.query(`CREATE TABLE IF NOT EXISTS dead_letters (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      reason text NOT NULL,
      origin jsonb NOT NULL,
      key text,
      raw bytea NOT NULL,
      redriven_at timestamptz
    )`)
    // Dedupe (issue 12.6): one pending letter per (tenant, resource, content); older rows have no hash.
    await tx.query(`ALTER TABLE dead_letters
      ADD COLUMN IF NOT EXISTS content_hash text,
      ADD COLUMN IF NOT EXISTS raw_size bigint,
      ADD COLUMN IF NOT EXISTS seen integer NOT NULL DEFAULT 1,
      ADD COLUMN IF NOT EXISTS tenant text,
      ADD COLUMN IF NOT EXISTS resource text`)
    await tx.query(`CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_pending_content
      ON dead_letters (COALESCE(tenant, ''), COALESCE(resource, ''), content_hash) WHERE redriven_at IS NULL AND content_hash IS NOT NULL`)
  })
  const columns = 'id, at, reason, origin, key, raw, redriven_at, content_hash, raw_size, seen'

  return {
    async put(letter) {
      const p = prepareLetter(letter)
      const { rows } = await db.query<LetterRow>(
        `INSERT INTO dead_letters (reason, origin, key, raw, content_hash, raw_size, tenant, resource)
         VALUES ($1, $2::jsonb, $3, $4::bytea, $5, $6, $7, $8)
         ON CONFLICT (COALESCE(tenant, ''), COALESCE(resource, ''), content_hash) WHERE redriven_at IS NULL AND content_hash IS NOT NULL
         DO UPDATE SET seen = dead_letters.seen + 1, reason = EXCLUDED.reason
         RETURNING ${columns}`,
        [letter.reason, JSON.stringify(letter.origin), letter.key, p.raw, p.contentHash, p.rawSize, p.tenant, p.resource],
      )
      return toLetter(rows[0])
    },

    /** Newest first. */
    async list(options = {}) {
      const where: string[] = []
      const params: unknown[] = []
      const param = (v: unknown) => {
        params.push(v)
        return `$${params.length}`
      }
      if (!options.includeRedriven) where.push('redriven_at IS NULL')
      // key LIKE, not the tenant column: letters stored before the column existed have it null.
      if (options.tenant !== undefined) where.push(`starts_with(key, ${param(`${options.tenant}:`)})`)
      if (options.resource !== undefined) where.push(`origin->>'resource' = ${param(options.resource)}`)
      if (options.reason !== undefined) where.push(`strpos(lower(reason), lower(${param(options.reason)})) > 0`)
      if (options.before !== undefined) {
        if (!/^\d{1,18}$/.test(options.before)) return []
        where.push(`id < ${param(options.before)}::bigint`)
      }
      const { rows } = await db.query<LetterRow>(
        `SELECT ${columns} FROM dead_letters ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${param(options.limit ?? null)}`,
        params,
      )
      return rows.map(toLetter)
    },

    async markRedriven(id) {
      if (!/^\d{1,18}$/.test(id)) throw new DeadLetterNotFoundError(id)
      const { rows } = await db.query('UPDATE dead_letters SET redriven_at = now() WHERE id = $1::bigint RETURNING id', [id])
      if (rows.length === 0) throw new DeadLetterNotFoundError(id)
    },

    // Nothing of its own to release: the database belongs to whoever opened it.
    async close() {},
  }
}
