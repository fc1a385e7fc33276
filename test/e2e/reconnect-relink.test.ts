// A customer reconnects their HR system: Kombo serves the same company under a new integration
// with new ids (the simulator's reconnect). The signed integration-created webhook asks for a
// re-link; the poller role matches the new ids to the existing users (remote_id, then work email),
// records it in each stream, and switches the tenant over. Nobody is duplicated, every user keeps
// their history, later changes flow into the existing streams, and what could not be matched is
// reported.
import t from 'tap'
import { createHmac } from 'node:crypto'
import { apiClient, caughtUp, controllableClock, startTestService, startTestSimulator, syncNow } from '../support/e2e-story.ts'
import { waitFor } from '../support/wait-for.ts'
import type { RunningService } from '../../runtime/service.ts'
import { tenantViewCounts } from '../../projections/viewstore/tenant-employees.ts'

const ADMIN = 'e2e-operator-token-0123456789abcdef'
const SECRET = 'e2e-kombo-webhook-secret'

function admin(service: RunningService) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${service.url}/v1/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }
}

async function postWebhook(service: RunningService, body: object) {
  const raw = JSON.stringify(body)
  const res = await fetch(`${service.url}/v1/webhooks/kombo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-kombo-signature': createHmac('sha256', SECRET).update(raw).digest('base64url') },
    body: raw,
  })
  return res.status
}

t.test('a reconnect with new ids that keeps every user and their history', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock, 30)
  const { service } = await startTestService(t, { simulator, clock, env: { ADMIN_API_TOKEN: ADMIN, KOMBO_WEBHOOK_SECRET: SECRET, TENANT_REFRESH_MS: '100' } })
  const ops = admin(service)

  const created = await ops('POST', '/tenants', { id: 'acme', integrationId: 'acme-int', invitePolicy: { mode: 'manual' } })
  t.equal(created.status, 201)
  await waitFor('a poller for acme', () => service.pollers.has('acme'))
  await syncNow(service, 'acme')
  const old = simulator.integration('acme-int')
  const someone = old.list('employees').find((e) => e.manager_id !== null)!
  old.update('employees', someone.id, { job_title: 'Head of Before' })
  await syncNow(service, 'acme')
  const acme = apiClient(service, 'acme', created.body.token.token)
  const before = await acme.allUsers()
  const beforeIds = new Set(before.map((u) => u.externalId))
  const countsBefore = await tenantViewCounts(service.stores.db, 'acme')
  const historyBefore = (await acme.get(`/users/${someone.id}/history`)).body.data
  t.ok(historyBefore.some((e: any) => e.type === 'EmployeeJobTitleChanged'), 'there is history to keep')

  // Reconnect: new ids for everyone. One employee's remote id changed (found by email), one lost
  // both remote id and email (found by nothing).
  const copy = simulator.reconnect('acme-int', 'acme-int-2')
  const newOf = (oldRecord: Record<string, unknown>) => copy.list('employees', { includeDeleted: true }).find((e) => e.remote_id === oldRecord.remote_id)!
  const others = old.list('employees').filter((e) => e.id !== someone.id && typeof e.work_email === 'string')
  const [byEmail, lost] = [others[0], others[1]]
  const byEmailNew = newOf(byEmail)
  const lostNew = newOf(lost)
  const someoneNew = newOf(someone)
  t.not(someoneNew.id, someone.id, 'the reconnected integration has new ids')
  copy.update('employees', byEmailNew.id, { remote_id: 'R-CHANGED-1', work_email: String(byEmail.work_email).toUpperCase() })
  copy.update('employees', lostNew.id, { remote_id: 'R-CHANGED-2', work_email: 'someone.else@elsewhere.example' })

  const status = await postWebhook(service, {
    id: 'wh_reconnect_1',
    type: 'integration-created',
    data: { id: 'acme-int-2', tool: 'personio', category: 'HRIS', end_user: { organization_name: 'Acme', creator_email: 'admin@acme.example', origin_id: 'acme' } },
  })
  t.equal(status, 202, 'the signed webhook is accepted')
  await waitFor('the re-link to finish and the tenant to switch', async () => (await ops('GET', '/tenants/acme')).body.tenant.integrationId === 'acme-int-2', 60_000, 100)
  await waitFor('a poller on the new integration', () => service.pollers.has('acme'))
  await syncNow(service, 'acme')

  // Nobody duplicated: the same users, plus the one that could not be matched.
  const after = await acme.allUsers()
  t.equal(after.length, before.length + 1, 'one user more: only the unmatched record arrived as a new user')
  t.ok([...beforeIds].every((id) => after.some((u) => u.externalId === id)), 'every user is still there under their id')
  t.ok(after.some((u) => u.externalId === lostNew.id), 'the unmatched record is a new user')
  t.notOk(after.some((u) => u.externalId === someoneNew.id || u.externalId === byEmailNew.id), 'no user under a matched new id')
  const countsAfter = await tenantViewCounts(service.stores.db, 'acme')
  t.equal(countsAfter.teams, countsBefore.teams, 'no team duplicated')
  t.equal(countsAfter.locations, countsBefore.locations, 'no location duplicated')
  const someoneAfter = await acme.user(someone.id)
  t.equal(someoneAfter.manager?.externalId, someone.manager_id, 'the manager reference points at the existing user')
  const oldGroupIds = new Set(old.list('groups').map((g) => g.id))
  t.ok(someoneAfter.teams.length > 0 && someoneAfter.teams.every((x: any) => oldGroupIds.has(x.externalId)), 'and so do the teams')

  // Each stream records the re-link after its history, and nothing else changed.
  const history = (await acme.get(`/users/${someone.id}/history`)).body.data
  t.same(history.slice(0, historyBefore.length).map((e: any) => e.type), historyBefore.map((e: any) => e.type), 'the history is kept')
  t.match(history.slice(historyBefore.length), [{ type: 'EmployeeRelinked', data: { fromKomboId: someone.id, toKomboId: someoneNew.id, matchedBy: 'remote_id', toIntegrationId: 'acme-int-2', fromIntegrationId: 'acme-int' } }], 'then the re-link, and no spurious change')
  t.equal(history.length, historyBefore.length + 1)
  const emailHistory = (await acme.get(`/users/${byEmail.id}/history`)).body.data
  t.ok(emailHistory.some((e: any) => e.type === 'EmployeeRelinked' && e.data.matchedBy === 'work_email' && e.data.toKomboId === byEmailNew.id), 'matched by work email (case-insensitive)')

  // Later changes of the new integration land in the existing streams.
  copy.update('employees', someoneNew.id, { job_title: 'Head of After' })
  await syncNow(service, 'acme')
  t.equal((await acme.user(someone.id)).jobTitle, 'Head of After', 'a change after the reconnect updates the existing user')
  t.equal((await acme.allUsers()).length, after.length)

  // The report: what could not be matched, on both sides; audited.
  const detail = (await ops('GET', '/tenants/acme')).body
  t.equal(detail.tenant.failingReason, null)
  const run = detail.relinks[0]
  t.match(run, { state: 'done', fromIntegrationId: 'acme-int', toIntegrationId: 'acme-int-2' })
  t.match(run.report.resources.employees, { byWorkEmail: 1, unmatched: 1, existingUnmatched: 1 })
  t.equal(run.report.resources.employees.byRemoteId, run.report.resources.employees.listed - 2)
  t.same(run.report.unmatched.new, [{ resource: 'employees', komboId: lostNew.id, remoteId: 'R-CHANGED-2' }])
  t.same(run.report.unmatched.existing, [{ resource: 'employees', entityId: lost.id }])
  t.notMatch(JSON.stringify(run), '@', 'no email in the report')
  t.ok(detail.audit.some((r: any) => r.action === 'tenant.relink-requested' && r.actor === 'kombo-webhook'))
  t.ok(detail.audit.some((r: any) => r.action === 'tenant.integration-relinked' && r.details.employeesRelinked === run.report.employeesRelinked))
  const metrics = await (await fetch(`${service.url}/metrics`)).text()
  t.match(metrics, /kombo_sync_relink_unmatched\{tenant="acme",resource="employees",side="new"\} 1/)

  // The old integration's deletion, delivered afterwards, no longer touches the tenant.
  t.equal(await postWebhook(service, { id: 'wh_del_1', type: 'integration-deleted', data: { id: 'acme-int', tool: 'personio', category: 'HRIS', end_user: { organization_name: 'Acme', creator_email: null, origin_id: 'acme' }, deleted_at: new Date().toISOString() } }), 202)
  await caughtUp(service)
  t.equal((await ops('GET', '/tenants/acme')).body.tenant.status, 'active')

  // The operator API asks for a re-link the same way (idempotent for a finished one).
  const again = await ops('POST', '/tenants/acme/relink', { integrationId: 'acme-int-2', actor: 'ops@learnamp' })
  t.equal(again.status, 202)
  t.equal(again.body.state, 'done')
  t.equal((await ops('POST', '/tenants/acme/relink', { integrationId: 'demo' })).body.error.code, 'integration_bound', 'an integration of another tenant is refused')
})
