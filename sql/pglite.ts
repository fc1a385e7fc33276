// Embedded PostgreSQL (PGlite, WASM): no server, no compile step, persisted in a directory.
import { PGlite } from '@electric-sql/pglite'
import type { SqlDatabase, SqlQueryable } from './database.ts'
import { EmbeddedTurns } from './embedded-turns.ts'
import { AnalyzeSchedule, analyzeGrownTables } from './auto-analyze.ts'
import { initialiseDataDirApart } from './pglite-init.ts'

/** Opens (or creates) an embedded database in `dataDir`; omit it for an in-memory database. */
export async function openPgliteDatabase(dataDir?: string, options: { maxStatementsAhead?: number; autoAnalyze?: boolean } = {}): Promise<SqlDatabase> {
  // A new directory is made in a child process (pglite-init.ts): ~500 MB less for the service's life.
  if (dataDir) await initialiseDataDirApart(dataDir)
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
  // No autovacuum in PGlite (auto-analyze.ts): after a transaction, at most every 2 s, a look
  // for tables that grew, as a turn of its own so it never runs inside anybody's transaction.
  const schedule = options.autoAnalyze === false ? null : new AnalyzeSchedule()
  const analyzeIfDue = () =>
    schedule?.runIfDue(() => turns.run('transaction', () => (db.closed ? Promise.resolve([]) : db.transaction((tx) => analyzeGrownTables(asQueryable(tx))))))
  return {
    query: <R>(text: string, params?: unknown[]) => turns.run('statement', () => direct.query<R>(text, params)),
    // Inside, the transaction's own statements go straight to its connection: it holds the turn.
    transaction: async (fn) => {
      const result = await turns.run('transaction', () => db.transaction((tx) => fn(asQueryable(tx))))
      analyzeIfDue()
      return result
    },
    exec: (sql) =>
      turns.run('transaction', async () => {
        await db.exec(sql)
      }),
    async close() {
      await schedule?.idle()
      if (!db.closed) await db.close()
    },
  }
}
