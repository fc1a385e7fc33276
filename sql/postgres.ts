// A PostgreSQL server through node-postgres, behind the same interface as the embedded database.
import pg from 'pg'
import type { SqlDatabase, SqlQueryable } from './database.ts'

// int8 (bigint) columns come back as strings by default; keep them as strings and let stores
// convert with BigInt(), so both drivers return the same shapes.

export async function openPostgresDatabase(connectionString: string, options: { max?: number } = {}): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10 })
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
    async exec(sql) {
      await pool.query(sql)
    },
    async close() {
      await pool.end()
    },
  }
}
