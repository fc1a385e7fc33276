import t from 'tap'
import { runSyncStateContract } from '../../test/contracts/sync-state.contract.ts'
import { testPostgresUrl } from '../../test/support/postgres.ts'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openPostgresDatabase } from '../../sql/postgres.ts'
import type { SqlDatabase } from '../../sql/database.ts'
import { SqlSyncStateStore } from './sql.ts'
import { InMemorySyncStateStore } from './memory.ts'

// One database per driver (opening PGlite takes seconds); each contract case starts from an
// empty table, and the database is closed when the driver's test ends.
async function freshStore(db: SqlDatabase) {
  await db.exec('DROP TABLE IF EXISTS kombo_sync_state; DROP TABLE IF EXISTS kombo_initial_sync')
  const store = new SqlSyncStateStore(db)
  await store.migrate()
  await store.migrate() // idempotent
  return store
}

t.test('pglite', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  runSyncStateContract(t, () => freshStore(db))
})
t.test('postgres', async (t) => {
  const db = await openPostgresDatabase(await testPostgresUrl(t), { max: 2 })
  t.teardown(() => db.close())
  runSyncStateContract(t, () => freshStore(db))
})
t.test('in memory', async (t) => runSyncStateContract(t, async () => new InMemorySyncStateStore()))
