// The dead-letter contract on the SQL store, on embedded PGlite and on the PostgreSQL server.
import t from 'tap'
import { DeadLetterNotFoundError, openSqlDeadLetterStore } from './sql-dead-letters.ts'
import { forEachSqlDriver } from '../../test/support/sql-drivers.ts'
import { runDeadLetterContract } from '../../test/contracts/dead-letters.contract.ts'

forEachSqlDriver(t, (t, db) => {
  runDeadLetterContract(t, async () => ({ store: await openSqlDeadLetterStore(db), cleanup: async () => {} }))

  t.test('re-driving an unknown letter says so', async (t) => {
    const store = await openSqlDeadLetterStore(db)
    await t.rejects(store.markRedriven('999999'), DeadLetterNotFoundError)
    await t.rejects(store.markRedriven('not-an-id'), DeadLetterNotFoundError)
  })
})
