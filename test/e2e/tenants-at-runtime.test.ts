// Tenants at runtime, in one process (embedded pipeline, simulator-backed): an operator onboards a
// customer through /v1/admin, it syncs, its invite policy changes (asked first with a dry run), its
// token is rotated, it is paused and resumed, and two customers are offboarded — one keeping its
// data, one crypto-shredded. No restart anywhere.
import t from 'tap'
import { apiClient, caughtUp, controllableClock, startTestService, startTestSimulator, syncNow, TOKEN } from '../support/e2e-story.ts'
import { waitFor } from '../support/wait-for.ts'
import type { RunningService } from '../../runtime/service.ts'
import { tenantViewCounts, unerasedEmployeeIdsOf } from '../../projections/viewstore/tenant-employees.ts'

const ADMIN = 'e2e-operator-token-0123456789abcdef'

function adminClient(service: RunningService, token = ADMIN) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${service.url}/v1/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }
}

const invitable = (users: any[]) => users.filter((u) => u.status !== 'deactivated' && u.email && u.invite.status !== 'invited')

t.test('onboard → sync → change policy (dry run, then for real) → rotate token → pause → resume → offboard (keep / erase)', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock, 20)
  const { service } = await startTestService(t, { simulator, clock, env: { ADMIN_API_TOKEN: ADMIN, TENANT_REFRESH_MS: '100' } })
  const admin = adminClient(service)

  // The two kinds of access stay apart.
  t.equal((await adminClient(service, TOKEN)('GET', '/tenants')).status, 401, 'a tenant token does not open the operator API')
  t.equal((await adminClient(service, 'x'.repeat(40))('GET', '/tenants')).status, 401)
  t.equal((await apiClient(service, 'demo', ADMIN).get('/users')).status, 401, 'the operator token reads no tenant data')

  // Onboard.
  const created = await admin('POST', '/tenants', { id: 'acme', integrationId: 'acme-int', invitePolicy: { mode: 'manual' }, timeZone: 'Europe/Berlin', actor: 'ops@learnamp' })
  t.equal(created.status, 201)
  t.equal(created.body.tenant.id, 'acme')
  t.same(created.body.tenant.settings.invitePolicy, { mode: 'manual' })
  t.match(created.body.token, { id: /^tok_/, token: /^kst_/ })
  t.equal((await admin('POST', '/tenants', { id: 'acme', integrationId: 'other-int' })).body.error.code, 'tenant_exists')
  const bound = await admin('POST', '/tenants', { id: 'globex', integrationId: 'acme-int' })
  t.equal(bound.status, 409)
  t.equal(bound.body.error.code, 'integration_bound')
  t.equal((await admin('POST', '/tenants', { id: 'Bad Id', integrationId: 'x' })).status, 400)

  // It syncs: the poller role picked the new tenant up without a restart.
  await waitFor('a poller for the new tenant', () => service.pollers.has('acme'))
  await syncNow(service, 'acme')
  let acme = apiClient(service, 'acme', created.body.token.token)
  const users = await acme.allUsers()
  t.ok(users.length >= 20, `the customer's users are there (${users.length})`)
  t.equal(users.filter((u) => u.invite.status === 'invited').length, 0, 'manual policy: nobody invited')
  t.equal((await apiClient(service, 'acme', TOKEN).get('/users')).status, 403, "the demo tenant's token does not read acme")
  const expected = invitable(users).length
  t.ok(expected > 0)

  // Dry run: what a switch to immediate would do, and nothing done.
  const dry = await admin('PATCH', '/tenants/acme?dryRun=true', { invitePolicy: { mode: 'immediate' }, actor: 'ops@learnamp' })
  t.equal(dry.status, 200)
  t.equal(dry.body.dryRun, true)
  t.equal(dry.body.impact.invites.wouldInvite, expected, 'the dry run counts the users a switch to immediate invites')
  t.same(dry.body.changes.map((c: any) => c.field), ['invitePolicy'])
  t.same((await admin('GET', '/tenants/acme')).body.tenant.settings.invitePolicy, { mode: 'manual' }, 'the dry run changed nothing')
  await caughtUp(service)
  t.equal((await acme.allUsers()).filter((u) => u.invite.status === 'invited').length, 0, 'and invited nobody')

  // For real: every user not yet invited is decided again under the new policy, at once.
  const changed = await admin('PATCH', '/tenants/acme', { invitePolicy: { mode: 'immediate' }, actor: 'ops@learnamp' })
  t.equal(changed.status, 200)
  t.equal(changed.body.impact.invites.wouldInvite, expected)
  await waitFor('the invites under the new policy', async () => (await acme.allUsers()).filter((u) => u.invite.status === 'invited').length === expected, 60_000, 100)

  // Token rotation without downtime.
  const second = await admin('POST', '/tenants/acme/tokens', { actor: 'ops@learnamp' })
  t.equal(second.status, 201)
  const acme2 = apiClient(service, 'acme', second.body.token)
  t.equal((await acme2.get('/users?limit=1')).status, 200, 'the new token works at once')
  t.equal((await acme.get('/users?limit=1')).status, 200, 'and so does the old one until it is revoked')
  t.equal((await admin('DELETE', `/tenants/acme/tokens/${created.body.token.id}`)).status, 200)
  t.equal((await acme.get('/users?limit=1')).status, 401, 'the revoked token is refused')
  t.equal((await admin('DELETE', `/tenants/acme/tokens/${created.body.token.id}`)).status, 404, 'revoking twice: not found')
  acme = acme2

  // Pause: polling stops, the API keeps serving. Resume: the hire made meanwhile arrives (and is invited).
  t.equal((await admin('PATCH', '/tenants/acme', { paused: true })).body.tenant.status, 'paused')
  await waitFor('the poller to stop', () => !service.pollers.has('acme'))
  const hire = simulator.integration('acme-int').hire({ first_name: 'Paula', last_name: 'Paused' })
  t.equal((await acme.get('/users?limit=1')).status, 200, 'a paused tenant is still served')
  t.equal((await admin('GET', '/tenants/acme')).body.sync.polling, 'paused')
  t.equal((await admin('PATCH', '/tenants/acme', { paused: false })).body.impact.polling, 'resumes')
  await waitFor('the poller to start again', () => service.pollers.has('acme'))
  await syncNow(service, 'acme')
  await waitFor('the hire made while paused', async () => (await acme.user(hire.id))?.invite.status === 'invited', 60_000, 100)

  // The detail: settings, sync health, counts, token ids and audit — never a token.
  const detail = await admin('GET', '/tenants/acme')
  t.equal(detail.status, 200)
  t.same(detail.body.tokens.map((k: any) => k.id), [second.body.id])
  t.notOk(JSON.stringify(detail.body).includes(second.body.token), 'no token in the detail')
  t.ok(detail.body.sync.resources.length > 0, 'sync health per resource')
  t.ok(detail.body.counts.users.active + detail.body.counts.users.pending > 0)
  const policyAudit = detail.body.audit.find((r: any) => r.action === 'tenant.invite-policy-changed')
  t.equal(policyAudit?.actor, 'ops@learnamp', 'the policy change is audited with who')
  t.same(policyAudit?.details.changes, [{ field: 'invitePolicy', from: { mode: 'manual' }, to: { mode: 'immediate' } }], 'and what')
  t.ok(Date.parse(policyAudit?.at) > 0, 'and when')

  // Offboarding, keeping the data.
  const globex = await admin('POST', '/tenants', { id: 'globex', integrationId: 'globex-int' })
  await waitFor('a poller for globex', () => service.pollers.has('globex'))
  await syncNow(service, 'globex')
  const off = await admin('DELETE', '/tenants/globex', { actor: 'ops@learnamp', reason: 'contract ended (TICKET-1)' })
  t.equal(off.status, 200)
  t.equal(off.body.tenant.status, 'offboarded')
  t.equal(off.body.employeesErased, 0)
  t.equal((await apiClient(service, 'globex', globex.body.token.token).get('/users')).status, 401, "the offboarded tenant's tokens are refused")
  await waitFor('polling of globex to stop', () => !service.pollers.has('globex'))
  t.ok((await tenantViewCounts(service.stores.db, 'globex')).users.active > 0, 'offboarding without erase keeps the data')
  t.equal((await admin('PATCH', '/tenants/globex', { paused: true })).body.error.code, 'tenant_offboarded')
  t.equal((await admin('POST', '/tenants', { id: 'globex2', integrationId: 'globex-int' })).status, 201, 'the integration is free again')

  // Offboarding with erase: every employee crypto-shredded, one audit record.
  const erasedIds = await unerasedEmployeeIdsOf(service.stores.db, 'acme')
  const erased = await admin('DELETE', '/tenants/acme?erase=true', { actor: 'ops@learnamp', reason: 'GDPR request TICKET-2' })
  t.equal(erased.status, 200)
  t.equal(erased.body.employeesErased, erasedIds.length)
  t.same(await tenantViewCounts(service.stores.db, 'acme'), { users: { pending: 0, active: 0, deactivated: 0 }, teams: (await tenantViewCounts(service.stores.db, 'acme')).teams, locations: (await tenantViewCounts(service.stores.db, 'acme')).locations }, 'no user left in the views')
  t.same(await unerasedEmployeeIdsOf(service.stores.db, 'acme'), [], 'every key erased')
  const erasedSet = await service.stores.personalDataKeys.erasedAmong('acme', erasedIds)
  t.equal(erasedSet.size, erasedIds.length)
  const history = await service.stores.eventStore.readStream(`employee-acme_${hire.id}`)
  t.ok(history.every((e) => !JSON.stringify(e.data).includes('Paula')), "the hire's events are unreadable")
  const trail = (await admin('GET', '/tenants/acme')).body.audit
  t.equal(trail.filter((r: any) => r.action === 'tenant.personal-data-erased').length, 1, 'one audit record for the erasure')
  t.match(trail.find((r: any) => r.action === 'tenant.personal-data-erased'), { actor: 'ops@learnamp', details: { employees: erasedIds.length, reason: 'GDPR request TICKET-2' } })
  t.ok(trail.some((r: any) => r.action === 'tenant.offboarded'))
  const list = await admin('GET', '/tenants')
  t.same(list.body.data.map((x: any) => [x.id, x.status]), [['acme', 'offboarded'], ['demo', 'active'], ['globex', 'offboarded'], ['globex2', 'active']])

  // The OpenAPI document has the admin routes under their own security scheme.
  const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as any
  t.ok(doc.components.securitySchemes.adminToken)
  t.same(doc.paths['/v1/admin/tenants'].post.security, [{ adminToken: [] }])
})
