// Tenants at runtime with every role its own process on one PostgreSQL database (SQL change log
// and event store): the operator API on the api process onboards a customer, changes its invite
// policy, rotates its token, pauses, resumes and offboards it — and the poller, processor and
// projector processes follow through the database (the tenant table's version), never through
// memory, without a restart.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { startTestSimulator, type StoryClock } from '../support/e2e-story.ts'
import { startChildService, type ChildService } from '../support/child-service.ts'
import { testPostgresUrl } from '../support/postgres.ts'
import { waitFor } from '../support/wait-for.ts'

const ADMIN = 'roles-apart-operator-token-0123456789'
const realClock: StoryClock = { now: () => new Date(), advance: () => {} }

async function call(url: string, token: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

async function users(api: ChildService, tenant: string, token: string): Promise<any[] | null> {
  const all: any[] = []
  let cursor: string | null = null
  do {
    const r = await call(`${api.url}/v1/tenants/${tenant}/users?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token)
    if (r.status !== 200) return null
    all.push(...r.body.data)
    cursor = r.body.next
  } while (cursor)
  return all
}

t.test('roles apart on PostgreSQL follow tenant changes through the database', async (t) => {
  const databaseUrl = await testPostgresUrl(t)
  const simulator = await startTestSimulator(t, realClock, 15)
  const dataDir = mkdtempSync(join(tmpdir(), 'kombo-sync-roles-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const env = {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    KOMBO_BASE_URL: simulator.url,
    KOMBO_API_KEY: 'roles-apart-key',
    DEMO_API_TOKEN: 'roles-apart-demo-token-0123',
    ADMIN_API_TOKEN: ADMIN,
    PORT: '0',
    POLL_INTERVAL_MS: '500',
    // Ten minutes: invites under a new policy can only come from the projector following the table.
    CLOCK_INTERVAL_MS: '600000',
    TENANT_REFRESH_MS: '300',
    LOG_LEVEL: 'warn',
  }
  // The api first: it creates the tables, so the others do not race to create them.
  const api = await startChildService(env, 90_000, 'api')
  const others = await Promise.all(['poller', 'processor', 'projector'].map((role) => startChildService(env, 90_000, role)))
  t.teardown(async () => {
    for (const child of [...others, api]) await child.stop()
  })
  // A wait that times out says what the role processes said (their warnings: dead letters, errors).
  const waitForRoles = (what: string, check: () => Promise<boolean>) =>
    waitFor(what, check, 120_000, 250).catch((err: Error) => {
      const tails = [api, ...others].map((c, i) => `--- ${['api', 'poller', 'processor', 'projector'][i]} ---\n${c.output().slice(-3000)}`)
      throw new Error(`${err.message}\n${tails.join('\n')}`)
    })
  const admin = (method: string, path: string, body?: unknown) => call(`${api.url}/v1/admin${path}`, ADMIN, method, body)

  // Onboarded on the api process; polled, processed and projected by the others.
  const created = await admin('POST', '/tenants', { id: 'acme', integrationId: 'acme-int', invitePolicy: { mode: 'manual' }, actor: 'ops' })
  t.equal(created.status, 201)
  let token = created.body.token.token as string
  await waitForRoles('the new tenant synced by the other processes', async () => ((await users(api, 'acme', token)) ?? []).length >= 15)
  const synced = (await users(api, 'acme', token))!
  t.equal(synced.filter((u) => u.invite.status === 'invited').length, 0, 'manual: nobody invited')
  const invitable = synced.filter((u) => u.status !== 'deactivated' && u.email).length

  // The policy change reaches the projector process, which decides the uninvited users again.
  const dry = await admin('PATCH', '/tenants/acme?dryRun=true', { invitePolicy: { mode: 'immediate' } })
  t.equal(dry.body.impact.invites.wouldInvite, invitable)
  t.equal((await admin('PATCH', '/tenants/acme', { invitePolicy: { mode: 'immediate' }, actor: 'ops' })).status, 200)
  await waitForRoles('invites under the new policy', async () => ((await users(api, 'acme', token)) ?? []).filter((u) => u.invite.status === 'invited').length === invitable)

  // Rotation.
  const second = await admin('POST', '/tenants/acme/tokens', {})
  t.equal((await call(`${api.url}/v1/tenants/acme/users?limit=1`, second.body.token)).status, 200)
  await admin('DELETE', `/tenants/acme/tokens/${created.body.token.id}`)
  t.equal((await call(`${api.url}/v1/tenants/acme/users?limit=1`, token)).status, 401, 'the revoked token is refused')
  token = second.body.token

  // Paused and resumed: the poller process stops and starts again; the hire made meanwhile arrives.
  t.equal((await admin('PATCH', '/tenants/acme', { paused: true })).body.tenant.status, 'paused')
  const hire = simulator.integration('acme-int').hire({ first_name: 'Rhea', last_name: 'Resumed' })
  t.equal((await admin('PATCH', '/tenants/acme', { paused: false })).body.tenant.status, 'active')
  await waitForRoles('the hire after resuming', async () => ((await users(api, 'acme', token)) ?? []).some((u) => u.externalId === hire.id && u.invite.status === 'invited'))

  // Offboarded with erase: refused at once; nothing of the tenant left in the views.
  const off = await admin('DELETE', '/tenants/acme?erase=true', { actor: 'ops', reason: 'TICKET-9' })
  t.equal(off.status, 200)
  t.ok(off.body.employeesErased >= 16)
  t.equal((await call(`${api.url}/v1/tenants/acme/users?limit=1`, token)).status, 401)
  const db = new pg.Client({ connectionString: databaseUrl })
  await db.connect()
  t.teardown(() => db.end())
  const left = await db.query("SELECT count(*)::int AS n FROM view_users WHERE tenant = 'acme'")
  t.equal(left.rows[0].n, 0, 'no user of the tenant left in the views')
  const trail = await db.query("SELECT action FROM tenant_audit WHERE tenant = 'acme' ORDER BY seq")
  t.same(
    trail.rows.map((r) => r.action).filter((a) => ['tenant.created', 'tenant.invite-policy-changed', 'tenant.offboarded', 'tenant.personal-data-erased'].includes(a)),
    ['tenant.created', 'tenant.invite-policy-changed', 'tenant.offboarded', 'tenant.personal-data-erased'],
    'audited in order',
  )
  for (const child of [api, ...others]) t.notOk(child.output().includes(ADMIN), 'the operator token is never logged')
})
