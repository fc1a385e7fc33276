import t from 'tap'
import type { Test } from 'tap'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { TenantSettings } from '../schemas/tenant.ts'
import { SqlTenantStore } from './sql.ts'
import { TenantDirectory } from './directory.ts'
import { IntegrationLifecycle } from './lifecycle.ts'

// One embedded database for the file (opening PGlite is slow on a busy machine); each test starts
// from empty tenant tables.
const dbOnce = openPgliteDatabase()
t.teardown(async () => (await dbOnce).close())

async function given(_t: Test, unknownIntegration: 'create-paused' | 'log' = 'create-paused') {
  const db = await dbOnce
  await db.exec('DROP TABLE IF EXISTS tenant_tokens, tenants, tenant_audit, tenant_directory_version')
  const store = new SqlTenantStore(db)
  await store.migrate()
  const directory = await TenantDirectory.open(store)
  return { store, directory, lifecycle: new IntegrationLifecycle({ store, directory, unknownIntegration }) }
}

const settings = TenantSettings.parse({})

t.test('integration-created binds a tenant that has no integration yet; a redelivery changes nothing', async (t) => {
  const { store, directory, lifecycle } = await given(t)
  await store.create({ id: 'acme', integrationId: null, settings, tokens: [] }, { actor: 'ops', action: 'tenant.created' })
  const outcome = await lifecycle.handle({ kind: 'integration-created', integrationId: 'int-1', originId: 'acme' })
  t.equal(outcome.action, 'bound')
  t.equal(directory.byIntegration('int-1')?.id, 'acme', 'this process follows at once')
  t.equal((await lifecycle.handle({ kind: 'integration-created', integrationId: 'int-1', originId: 'acme' })).action, 'nothing-to-do')
  t.same((await store.auditTrail('acme')).map((r) => [r.actor, r.action]), [['ops', 'tenant.created'], ['kombo-webhook', 'tenant.integration-bound']])
})

t.test('integration-created for an unknown end user creates the tenant paused with manual invites, or only logs', async (t) => {
  const { store, lifecycle } = await given(t)
  t.equal((await lifecycle.handle({ kind: 'integration-created', integrationId: 'int-9', originId: 'newco' })).action, 'created-paused')
  const newco = await store.get('newco')
  t.equal(newco?.status, 'paused')
  t.same(newco?.settings.invitePolicy, { mode: 'manual' })
  t.equal(newco?.integrationId, 'int-9')
  t.same(await store.tokensOf('newco'), [], 'no token until an operator issues one')
  t.equal((await lifecycle.handle({ kind: 'integration-created', integrationId: 'int-10', originId: 'Not A Tenant Id' })).action, 'logged')
  t.equal((await lifecycle.handle({ kind: 'integration-created', integrationId: 'int-11', originId: null })).action, 'logged')
  const off = await given(t, 'log')
  t.equal((await off.lifecycle.handle({ kind: 'integration-created', integrationId: 'int-9', originId: 'newco' })).action, 'logged')
  t.equal(await off.store.get('newco'), null, 'turned off: nothing created')
})

t.test('a new integration for a tenant that has one is reported, not switched to', async (t) => {
  const { store, lifecycle } = await given(t)
  await store.create({ id: 'acme', integrationId: 'int-1', settings, tokens: [] }, { actor: 'ops', action: 'tenant.created' })
  const outcome = await lifecycle.handle({ kind: 'integration-created', integrationId: 'int-2', originId: 'acme' })
  t.equal(outcome.action, 'reconnect-needs-operator')
  const acme = await store.get('acme')
  t.equal(acme?.integrationId, 'int-1', 'still bound to the old integration')
  t.match(acme?.failingReason, /new integration int-2/)
})

t.test('integration-deleted pauses the tenant; state INVALID marks it failing, ACTIVE clears it', async (t) => {
  const { store, directory, lifecycle } = await given(t)
  await store.create({ id: 'acme', integrationId: 'int-1', settings, tokens: [] }, { actor: 'ops', action: 'tenant.created' })
  t.equal((await lifecycle.handle({ kind: 'integration-state-changed', integrationId: 'int-1', originId: 'acme', state: 'INVALID' })).action, 'marked-failing')
  t.match(directory.get('acme')?.failingReason, /INVALID/)
  t.equal(directory.get('acme')?.status, 'active', 'still polled: the poller itself stops on rejected credentials')
  t.equal((await lifecycle.handle({ kind: 'integration-state-changed', integrationId: 'int-1', originId: 'acme', state: 'INVALID' })).action, 'nothing-to-do')
  t.equal((await lifecycle.handle({ kind: 'integration-state-changed', integrationId: 'int-1', originId: 'acme', state: 'ACTIVE' })).action, 'failing-cleared')
  t.equal(directory.get('acme')?.failingReason, null)
  t.equal((await lifecycle.handle({ kind: 'integration-deleted', integrationId: 'int-1', originId: 'acme' })).action, 'paused')
  t.equal(directory.get('acme')?.status, 'paused')
  t.match(directory.get('acme')?.failingReason, /nobody deactivated/)
  t.equal((await lifecycle.handle({ kind: 'integration-deleted', integrationId: 'int-404', originId: null })).action, 'nothing-to-do')
})

t.test('lifecycle events are picked out of the webhook events the API hands on', async (t) => {
  const { lifecycleEventOf } = await import('./lifecycle.ts')
  t.same(lifecycleEventOf({ kind: 'integration-created', integrationId: 'i', originId: 'acme' }), { kind: 'integration-created', integrationId: 'i', originId: 'acme' })
  t.same(lifecycleEventOf({ type: 'integration-deleted', integrationId: 'i' }), { kind: 'integration-deleted', integrationId: 'i', originId: null })
  t.same(lifecycleEventOf({ kind: 'integration-state-changed', integrationId: 'i', originId: null, state: 'INACTIVE' }), { kind: 'integration-state-changed', integrationId: 'i', originId: null, state: 'INACTIVE' })
  t.equal(lifecycleEventOf({ kind: 'integration-state-changed', integrationId: 'i' }), null, 'no state: nothing to act on')
  t.equal(lifecycleEventOf({ type: 'data-changed', integrationId: 'i' }), null)
})
