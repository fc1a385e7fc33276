// Embedded PostgreSQL (PGlite, WASM): no server, no compile step, persisted in a directory.
import { PGlite } from '@electric-sql/pglite'
import type { SqlDatabase, SqlQueryable } from './database.ts'

/** Opens (or creates) an embedded database in `dataDir`; omit it for an in-memory database. */
export async function openPgliteDatabase(dataDir?: string): Promise<SqlDatabase> {
  const db = dataDir ? new PGlite(dataDir) : new PGlite()
  await db.waitReady
  const asQueryable = (q: { query: PGlite['query'] }): SqlQueryable => ({
    async query<R>(text: string, params?: unknown[]) {
      const res = await q.query<R>(text, params as unknown[] | undefined)
      return { rows: res.rows }
    },
  })
  return {
    ...asQueryable(db),
    transaction: (fn) => db.transaction((tx) => fn(asQueryable(tx))),
    async exec(sql) {
      await db.exec(sql)
    },
    async close() {
      if (!db.closed) await db.close()
    },
  }
}
