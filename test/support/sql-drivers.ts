// Runs a suite once per SQL driver: embedded PGlite (in memory) and the PostgreSQL server (a
// throw-away database). `t.test(name)` gets the open database; it is closed afterwards.
import type { Test } from 'tap'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openPostgresDatabase } from '../../sql/postgres.ts'
import type { SqlDatabase } from '../../sql/database.ts'
import { testPostgresUrl } from './postgres.ts'

export function forEachSqlDriver(t: Test, suite: (t: Test, db: SqlDatabase, driver: string) => void | Promise<void>): void {
  const drivers: Array<[string, (t: Test) => Promise<SqlDatabase>]> = [
    ['pglite', () => openPgliteDatabase()],
    ['postgres', async (t) => openPostgresDatabase(await testPostgresUrl(t))],
  ]
  for (const [name, open] of drivers) {
    t.test(name, async (t) => {
      const db = await open(t)
      t.teardown(() => db.close())
      await suite(t, db, name)
    })
  }
}
