// A PostgreSQL server through node-postgres, behind the same interface as the embedded database.
import pg from 'pg'
import type { SqlDatabase, SqlQueryable } from './database.ts'

// int8 (bigint) columns come back as strings by default; keep them as strings and let stores
// convert with BigInt(), so both drivers return the same shapes.

/** Advisory lock key for `exec` (migrations): an arbitrary constant, 'kombo-sync' in ASCII-ish. */
const MIGRATION_LOCK = 0x6b6f6d626f

export async function openPostgresDatabase(
  connectionString: string,
  options: { max?: number; onIdleClientError?: (err: Error) => void } = {},
): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10 })
  // An idle pooled connection the server drops (restart, pg_terminate_backend, network) emits
  // 'error' on the pool; unhandled, that would crash the process. The pool discards the client and
  // the next query opens a new connection (or fails, which the caller retries).
  pool.on('error', (err) => options.onIdleClientError?.(err))
  // Fail at start, with a clear message, rather than on first use.
  const probe = await pool.connect()
  probe.release()
  const asQueryable = (c: pg.Pool | pg.PoolClient): SqlQueryable => ({
    async query<R>(text: string, params?: unknown[]) {
      const res = await c.query(text, params as unknown[] | undefined)
      return { rows: res.rows as R[] }
    },
  })
  return {
    ...asQueryable(pool),
    async transaction(fn) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const result = await fn(asQueryable(client))
        await client.query('COMMIT')
        return result
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.release()
      }
    },
    async session() {
      const client = await pool.connect()
      // A held connection the server drops emits 'error' on the client: unhandled, that would crash
      // the process. The session's next query fails instead, and its holder learns it there.
      client.on('error', (err) => options.onIdleClientError?.(err))
      let released = false
      return {
        ...asQueryable(client),
        async release() {
          if (released) return
          released = true
          client.release(true) // destroyed, not pooled: its session state (locks) ends with it
        },
      }
    },
    async exec(sql) {
      // Migrations: several processes (roles) may start at once on a fresh database, and
      // concurrent `CREATE TABLE IF NOT EXISTS` can still collide in PostgreSQL's catalog. A
      // session advisory lock (not a transaction: VACUUM must be able to run here) serialises them.
      const client = await pool.connect()
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
        try {
          await client.query(sql)
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK])
        }
      } finally {
        client.release()
      }
    },
    async close() {
      await pool.end()
    },
  }
}
