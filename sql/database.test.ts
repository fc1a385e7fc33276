import t from 'tap'
import { openPostgresDatabase } from './postgres.ts'
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
