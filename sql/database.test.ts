import t from 'tap'
import { openPgliteDatabase } from './pglite.ts'
import { openPostgresDatabase } from './postgres.ts'
import { testPostgresUrl } from '../test/support/postgres.ts'
import type { SqlDatabase } from './database.ts'

const drivers: Array<[string, () => Promise<SqlDatabase>]> = [
  ['pglite', () => openPgliteDatabase()],
  ['postgres', async () => openPostgresDatabase(await testPostgresUrl(t))],
]

for (const [name, open] of drivers) {
  t.test(name, async (t) => {
    const db = await open()
    t.teardown(() => db.close())
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
}
