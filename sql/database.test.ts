import t from 'tap'
import pg from 'pg'
import { guardClientErrors, openPostgresDatabase } from './postgres.ts'
import { testPostgresUrl } from '../test/support/postgres.ts'
import { forEachSqlDriver } from '../test/support/sql-drivers.ts'

forEachSqlDriver(t, async (t, db) => {
  await db.exec('CREATE TABLE IF NOT EXISTS kv (k text primary key, v bigint)')
  await db.query('INSERT INTO kv VALUES ($1, $2)', ['a', 1])
  await t.rejects(
    db.transaction(async (tx) => {
      await tx.query('INSERT INTO kv VALUES ($1, $2)', ['b', 2])
      throw new Error('boom')
    }),
  )
  const { rows } = await db.query<{ k: string; v: string | number }>('SELECT k, v FROM kv ORDER BY k')
  t.same(rows.map((r) => r.k), ['a'], 'a failed transaction rolls back')
  t.equal(BigInt(rows[0].v), 1n)
})

t.test('postgres: a server-side termination of idle connections does not crash the process', async (t) => {
  const url = await testPostgresUrl(t)
  const seen: Error[] = []
  const db = await openPostgresDatabase(url, { onIdleClientError: (err) => seen.push(err) })
  t.teardown(() => db.close())
  await db.query('SELECT 1')
  const admin = await openPostgresDatabase(url.replace(/\/[^/]*$/, '/postgres'))
  t.teardown(() => admin.close())
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
    new URL(url).pathname.slice(1),
  ])
  await new Promise((r) => setTimeout(r, 200))
  t.ok(seen.length >= 1, 'the idle connection error was reported, not thrown')
  const { rows } = await db.query<{ one: number }>('SELECT 1 AS one')
  t.equal(rows[0].one, 1, 'the next query gets a fresh connection')
})

t.test('postgres: an error on a client between the pool handing it out and its taker listening is caught and kept', async (t) => {
  const url = await testPostgresUrl(t)
  // The gap, made deterministic: pg-pool calls a connect callback synchronously, after it has
  // taken its own 'error' listener off the client, where `await pool.connect()` would resume only
  // a microtask later. An 'error' emitted with no listener throws.
  const taken = (pool: pg.Pool) =>
    new Promise<{ thrown: unknown; client: pg.PoolClient }>((resolve, reject) => {
      pool.connect((err, client) => {
        if (err || !client) return reject(err)
        let thrown: unknown = null
        try {
          client.emit('error', new Error('terminating connection due to administrator command'))
        } catch (e) {
          thrown = e
        }
        resolve({ thrown, client })
      })
    })
  const bare = new pg.Pool({ connectionString: url, max: 1 })
  t.teardown(() => bare.end())
  const unguarded = await taken(bare)
  t.match(String(unguarded.thrown), /administrator command/, 'without the guard the error has no listener (it would crash the process)')
  unguarded.client.release(true)

  const pool = new pg.Pool({ connectionString: url, max: 1 })
  t.teardown(() => pool.end())
  const errorOf = guardClientErrors(pool)
  const guarded = await taken(pool)
  t.equal(guarded.thrown, null, 'with the guard nothing is thrown')
  t.match(errorOf(guarded.client)?.message, /administrator command/, 'the error is kept for the taker, which then drops the client')
  guarded.client.release(true)
})
