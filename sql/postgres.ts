// A PostgreSQL server through node-postgres, behind the same interface as the embedded database.
import pg from 'pg'
import type { SqlDatabase, SqlQueryable } from './database.ts'
import { AnalyzeSchedule, analyzeGrownTables } from './auto-analyze.ts'
import { isConnectionLost } from './unavailable.ts'

// int8 (bigint) columns come back as strings by default; keep them as strings and let stores
// convert with BigInt(), so both drivers return the same shapes.

/** Advisory lock key for `exec` (migrations): an arbitrary constant, 'kombo-sync' in ASCII-ish. */
const MIGRATION_LOCK = 0x6b6f6d626f

export async function openPostgresDatabase(
  connectionString: string,
  options: { max?: number; onIdleClientError?: (err: Error) => void; autoAnalyze?: boolean } = {},
): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10 })
  // An idle pooled connection the server drops (restart, pg_terminate_backend, network) emits
  // 'error' on the pool; unhandled, that would crash the process. The pool discards the client and
  // the next query opens a new connection (or fails, which the caller retries).
  pool.on('error', (err) => options.onIdleClientError?.(err))
  const errorOf = guardClientErrors(pool)
  // A checked-out client has no pool listener: a backend terminated while we hold it (between the
  // statements of a transaction, or during one) emits 'error' on the client, and unhandled that
  // crashed the process. Each checkout gets a listener; the failure then surfaces as the rejected
  // query (the batch fails and is retried), and the broken client is destroyed, not reused.
  const checkout = async (): Promise<{ client: pg.PoolClient; done: (err?: unknown) => void }> => {
    const client = await pool.connect()
    // An error met between pg-pool handing the client out and this line (see guardClientErrors).
    let broken: Error | null = errorOf(client) ?? null
    if (broken) options.onIdleClientError?.(broken)
    const onError = (err: Error) => {
      broken = err
      options.onIdleClientError?.(err)
    }
    client.on('error', onError)
    return {
      client,
      done: (err) => {
        client.off('error', onError)
        client.release(broken ?? (err instanceof Error && isConnectionLost(err) ? err : undefined))
      },
    }
  }
  // Fail at start, with a clear message, rather than on first use.
  const probe = await checkout()
  probe.done()
  const asQueryable = (c: pg.Pool | pg.PoolClient): SqlQueryable => ({
    async query<R>(text: string, params?: unknown[]) {
      const res = await c.query(text, params as unknown[] | undefined)
      return { rows: res.rows as R[] }
    },
  })
  // New tables grow faster than autovacuum analyses them (auto-analyze.ts): after a transaction, at
  // most every 2 s, a look for tables that grew, in a transaction of its own on a pooled connection.
  const schedule = options.autoAnalyze === false ? null : new AnalyzeSchedule()
  let closed = false
  const analyzeIfDue = () => {
    if (!closed) schedule?.runIfDue(() => inTransaction((tx) => analyzeGrownTables(tx, { lockTimeoutMs: 1_000 })))
  }
  async function inTransaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    const { client, done } = await checkout()
    let failure: unknown
    try {
      await client.query('BEGIN')
      const result = await fn(asQueryable(client))
      await client.query('COMMIT')
      return result
    } catch (err) {
      failure = err
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      done(failure)
    }
  }
  return {
    ...asQueryable(pool),
    async transaction(fn) {
      const result = await inTransaction(fn)
      analyzeIfDue()
      return result
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
      const { client, done } = await checkout()
      let failure: unknown
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
        try {
          await client.query(sql)
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK])
        }
      } catch (err) {
        failure = err
        throw err
      } finally {
        done(failure)
      }
    },
    async close() {
      closed = true
      await schedule?.idle()
      await pool.end()
    },
  }
}

/**
 * Gives every client of the pool an 'error' listener from the moment it is connected, and returns
 * the first error each client met. pg-pool takes its own listener off a client when it hands it
 * out, and the taker can add one only when its `await pool.connect()` resumes, a microtask later.
 * A new connection whose ReadyForQuery and a FATAL (pg_terminate_backend) arrive in one socket read
 * emits 'error' in between, with no listener: that crashed the `all` process in CI
 * (test/reliability/postgres-connections). The pool emits 'connect' before it takes its listener
 * off, so this one is always there.
 */
export function guardClientErrors(pool: pg.Pool): (client: pg.PoolClient) => Error | undefined {
  const errors = new WeakMap<pg.PoolClient, Error>()
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      if (!errors.has(client)) errors.set(client, err)
    })
  })
  return (client) => errors.get(client)
}

