// The dead-letter contract on the SQL store, on embedded PGlite and on the PostgreSQL server.
import t from 'tap'
import { DeadLetterNotFoundError, openSqlDeadLetterStore } from './sql-dead-letters.ts'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openPostgresDatabase } from '../../sql/postgres.ts'
import { testPostgresUrl } from '../../test/support/postgres.ts'
import { runDeadLetterContract } from '../../test/contracts/dead-letters.contract.ts'
import type { SqlDatabase } from '../../sql/database.ts'

const drivers: Array<[string, () => Promise<SqlDatabase>]> = [
  ['pglite', () => openPgliteDatabase()],
  ['postgres', async () => openPostgresDatabase(await testPostgresUrl(t))],
]

for (const [name, openDb] of drivers) {
  t.test(name, async (t) => {
    const db = await openDb()
    t.teardown(() => db.close())
    runDeadLetterContract(t, async () => ({ store: await openSqlDeadLetterStore(db), cleanup: async () => {} }))

    t.test('re-driving an unknown letter says so', async (t) => {
      const store = await openSqlDeadLetterStore(db)
      await t.rejects(store.markRedriven('999999'), DeadLetterNotFoundError)
      await t.rejects(store.markRedriven('not-an-id'), DeadLetterNotFoundError)
    })
  })
}
