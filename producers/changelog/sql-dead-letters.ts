// Dead letters in a table of the embedded database (PGlite) or a PostgreSQL server: records that
// failed validation or processing, with the reason, where they came from and the original bytes.
import type { SqlDatabase } from '../../sql/database.ts'
import type { DeadLetter, DeadLetterStore } from './port.ts'
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
  })
  const columns = 'id, at, reason, origin, key, raw, redriven_at'

  return {
    async put(letter) {
      const { rows } = await db.query<LetterRow>(
        `INSERT INTO dead_letters (reason, origin, key, raw) VALUES ($1, $2::jsonb, $3, $4::bytea) RETURNING ${columns}`,
        [letter.reason, JSON.stringify(letter.origin), letter.key, letter.raw],
      )
      return toLetter(rows[0])
    },

    /** Newest first. */
    async list(options = {}) {
      const { rows } = await db.query<LetterRow>(
        `SELECT ${columns} FROM dead_letters ${options.includeRedriven ? '' : 'WHERE redriven_at IS NULL'} ORDER BY id DESC LIMIT $1`,
        [options.limit ?? null],
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
