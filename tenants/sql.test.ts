import t from 'tap'
import { runTenantStoreContract } from '../test/contracts/tenant-store.contract.ts'
import { forEachSqlDriver } from '../test/support/sql-drivers.ts'
import { SqlTenantStore } from './sql.ts'

forEachSqlDriver(t, async (t, db) => {
  // Each contract case starts from empty tables on the driver's one database.
  runTenantStoreContract(t, async () => {
    await db.exec('DROP TABLE IF EXISTS tenant_tokens, tenants, tenant_audit, tenant_directory_version')
    const store = new SqlTenantStore(db)
    await store.migrate()
    await store.migrate() // idempotent
    return store
  })
})
