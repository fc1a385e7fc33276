// With roles apart, a tenant onboarded through the api process reaches the poller's and the
// processor's copies of the tenant table each on its own timer. When the poller was first, the new
// tenant's records reached a processor whose directory did not know the tenant yet, and all of
// them were dead-lettered as "unknown tenant" (CI saw the tenant never sync). The processor now
// brings its directory up to date before it decides that a record's tenant is unknown.
import t from 'tap'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { SqlTenantStore } from '../../tenants/sql.ts'
import { TenantDirectory } from '../../tenants/directory.ts'
import { TenantSettings } from '../../schemas/tenant.ts'
import { openSqlEventStore } from '../../processors/eventstore/sql.ts'
import { openSqlDeadLetterStore } from '../../producers/changelog/sql-dead-letters.ts'
import { processChanges } from '../../processors/process-changes.ts'
import { changeKey } from '../../schemas/envelope.ts'
import { SimulatedCompany } from '../../simulator/index.ts'
import type { ConsumedChange } from '../../producers/changelog/port.ts'
import { knowTenantsOf } from './processor.ts'

const now = new Date('2026-03-01T12:00:00.000Z')

async function given() {
  const db = await openPgliteDatabase()
  const store = new SqlTenantStore(db)
  await store.migrate()
  // Two processes' copies of one table: the api's (which onboards) and the processor's (never
  // refreshed on a timer here, as if its timer had not fired yet).
  const apiDirectory = await TenantDirectory.open(store)
  const processorDirectory = await TenantDirectory.open(store)
  let versionReads = 0
  const version = store.version.bind(store)
  store.version = () => (versionReads++, version())
  return { db, store, apiDirectory, processorDirectory, versionReads: () => versionReads }
}

function employeeChange(tenant: string, offset: number): ConsumedChange {
  const record = new SimulatedCompany(3, { employees: 1, teams: 0, locations: 0 }, () => now).list('employees')[0]
  const value = { tenant, integrationId: `${tenant}-int`, resource: 'employees', fetchedAt: now.toISOString(), pollId: 'p1', record }
  return { resource: 'employees', key: changeKey(tenant, record.id), partition: 0, offset: String(offset), value, raw: Buffer.from(JSON.stringify(value)) } as ConsumedChange
}

t.test("a record of a tenant onboarded after this processor's last refresh is processed, not dead-lettered", async (t) => {
  const { db, store, processorDirectory } = await given()
  t.teardown(() => db.close())
  const events = await openSqlEventStore(db)
  const deadLetters = await openSqlDeadLetterStore(db)
  await store.create({ id: 'acme', integrationId: 'acme-int', settings: TenantSettings.parse({}), tokens: [] }, { actor: 'ops', action: 'tenant.created' })
  const batch = [employeeChange('acme', 0)]
  const deps = { store: events, deadLetters, tenantSettingsOf: (id: string) => processorDirectory.settingsOf(id), now: () => now }

  t.equal(processorDirectory.get('acme'), undefined, 'the processor has not seen the new tenant yet')
  // What happened before: the batch was decided against the stale directory.
  t.same((await processChanges(batch, deps)).map((o) => o.kind), ['dead-lettered'], 'without catching up: dead-lettered')

  await knowTenantsOf(batch, processorDirectory)
  t.ok(processorDirectory.get('acme'), 'caught up with the table')
  t.same((await processChanges(batch, deps)).map((o) => o.kind), ['appended'], 'after catching up: appended')
})

t.test('the table is read only for a batch with a tenant not known here; a tenant that does not exist stays unknown', async (t) => {
  const { db, store, processorDirectory, versionReads } = await given()
  t.teardown(() => db.close())
  await store.create({ id: 'acme', integrationId: 'acme-int', settings: TenantSettings.parse({}), tokens: [] }, { actor: 'ops', action: 'tenant.created' })
  await processorDirectory.refresh()
  const before = versionReads()
  await knowTenantsOf([employeeChange('acme', 0), employeeChange('acme', 1)], processorDirectory)
  t.equal(versionReads(), before, 'every tenant known: no read of the table')
  await knowTenantsOf([employeeChange('acme', 2), employeeChange('nobody', 3)], processorDirectory)
  t.equal(versionReads(), before + 1, 'one version check for the batch')
  t.equal(processorDirectory.get('nobody'), undefined, 'still unknown: the processor dead-letters it with the reason')
})
