// Embedded PostgreSQL (PGlite, WASM): no server, no compile step, persisted in a directory.
import { PGlite } from '@electric-sql/pglite'
import type { SqlDatabase, SqlQueryable } from './database.ts'
import { EmbeddedTurns } from './embedded-turns.ts'

/** Opens (or creates) an embedded database in `dataDir`; omit it for an in-memory database. */
export async function openPgliteDatabase(dataDir?: string, options: { maxStatementsAhead?: number } = {}): Promise<SqlDatabase> {
  const db = dataDir ? new PGlite(dataDir) : new PGlite()
  await db.waitReady
  // PGlite's own queue is one FIFO line for statements and transactions; the turns in front of it
  // let single statements (API reads) pass waiting transactions (the sync's batches), boundedly.
  const turns = new EmbeddedTurns(options.maxStatementsAhead)
  const asQueryable = (q: { query: PGlite['query'] }): SqlQueryable => ({
    async query<R>(text: string, params?: unknown[]) {
      const res = await q.query<R>(text, params as unknown[] | undefined)
      return { rows: res.rows }
    },
  })
  const direct = asQueryable(db)
  return {
    query: <R>(text: string, params?: unknown[]) => turns.run('statement', () => direct.query<R>(text, params)),
    // Inside, the transaction's own statements go straight to its connection: it holds the turn.
    transaction: (fn) => turns.run('transaction', () => db.transaction((tx) => fn(asQueryable(tx)))),
    exec: (sql) =>
      turns.run('transaction', async () => {
        await db.exec(sql)
      }),
    async close() {
      if (!db.closed) await db.close()
    },
  }
}
