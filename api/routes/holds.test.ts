// The holds routes over a fake HoldAdmin: list, release, discard; 400 without an actor, 404 for an
// unknown hold or another tenant's, 401 without a token, 409 for a hold decided the other way.
import t from 'tap'
import { buildApiApp, type ApiDeps } from '../app.ts'
import { createTenantAuthenticator, sha256Hex } from '../auth/tenant-tokens.ts'
import type { Hold } from '../../schemas/holds.ts'

const ACME = 'acme-secret-token-0123456789'
const GLOBEX = 'globex-secret-token-9876543210'
const hold = (over: Partial<Hold> = {}): Hold => ({ id: 'hold-1', status: 'open', users: ['a', 'b'], reason: '2 of 3 active users', createdAt: '2026-03-01T12:00:00.000Z', decidedAt: null, decidedBy: null, ...over })

async function appWith(t: { teardown(fn: () => unknown): void }) {
  const holds = new Map<string, Hold>([['acme/hold-1', hold()]])
  const decisions: string[] = []
  const admin: NonNullable<ApiDeps['holds']> = {
    list: async (tenant, status) => [...holds].filter(([k, h]) => k.startsWith(`${tenant}/`) && (!status || h.status === status)).map(([, h]) => h),
    decide: async (tenant, id, action, actor) => {
      const h = holds.get(`${tenant}/${id}`)
      if (!h) return { kind: 'not_found' }
      const status = action === 'release' ? 'released' : 'discarded'
      if (h.status !== 'open' && h.status !== status) return { kind: 'conflict', message: `hold ${id} was ${h.status}` }
      decisions.push(`${tenant}/${id}/${action}/${actor}`)
      const next = { ...h, status, decidedBy: actor, decidedAt: '2026-03-01T13:00:00.000Z' } as Hold
      holds.set(`${tenant}/${id}`, next)
      return { kind: 'decided', hold: next }
    },
  }
  const deps = {
    views: {},
    syncStatus: { list: async () => [], openHolds: (tenant: string) => admin.list(tenant, 'open') },
    tenants: createTenantAuthenticator([
      { id: 'acme', tokenSha256: [sha256Hex(ACME)] },
      { id: 'globex', tokenSha256: [sha256Hex(GLOBEX)] },
    ]),
    readiness: async () => ({ ready: true, checks: {} }),
    metrics: { contentType: 'text/plain', render: async () => '' },
    holds: admin,
  } as unknown as ApiDeps
  const app = await buildApiApp(deps, { viewCache: false, rateLimitPerMinute: 0 })
  t.teardown(() => app.close())
  const call = (method: 'GET' | 'POST', url: string, token = ACME, body?: unknown) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) })
  return { call, decisions, app }
}

t.test('GET /holds lists the tenant\'s holds; /sync shows the open ones', async (t) => {
  const { call } = await appWith(t)
  const res = await call('GET', '/v1/tenants/acme/holds')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { data: [hold()] })
  t.same((await call('GET', '/v1/tenants/acme/holds?status=released')).json(), { data: [] })
  t.equal((await call('GET', '/v1/tenants/acme/holds?status=nope')).statusCode, 400)
  t.same((await call('GET', '/v1/tenants/acme/sync')).json().holds, { open: 1, data: [hold()] })
})

t.test('release and discard need an actor, are tenant-scoped and refuse the other decision', async (t) => {
  const { call, decisions } = await appWith(t)
  t.equal((await call('POST', '/v1/tenants/acme/holds/hold-1/release', ACME, {})).statusCode, 400, 'no actor: 400')
  t.equal((await call('POST', '/v1/tenants/acme/holds/hold-1/release', ACME, { actor: '' })).statusCode, 400, 'empty actor: 400')
  t.equal((await call('POST', '/v1/tenants/acme/holds/hold-1/release', ACME, { actor: 'x', extra: 1 })).statusCode, 400, 'unknown field: 400')
  t.equal((await call('POST', '/v1/tenants/acme/holds/hold-9/release', ACME, { actor: 'x' })).statusCode, 404, 'unknown hold: 404')
  t.equal((await call('POST', '/v1/tenants/acme/holds/hold-1/release', GLOBEX, { actor: 'x' })).statusCode, 403, "another tenant's token: refused")
  t.equal((await call('POST', '/v1/tenants/globex/holds/hold-1/release', GLOBEX, { actor: 'x' })).statusCode, 404, "acme's hold under globex: 404")
  t.equal((await call('GET', '/v1/tenants/acme/holds', 'wrong-token-0123456789')).statusCode, 401)
  t.same(decisions, [], 'nothing was decided by the refused calls')
  const released = await call('POST', '/v1/tenants/acme/holds/hold-1/release', ACME, { actor: 'ops@example.test' })
  t.equal(released.statusCode, 200)
  t.same([released.json().data.status, released.json().data.decidedBy], ['released', 'ops@example.test'])
  t.equal((await call('POST', '/v1/tenants/acme/holds/hold-1/discard', ACME, { actor: 'x' })).statusCode, 409, 'released, then discarded: 409')
  t.same(decisions, ['acme/hold-1/release/ops@example.test'])
  t.same((await call('GET', '/v1/tenants/acme/sync')).json().holds, { open: 0, data: [] })
})

t.test('the routes are in the OpenAPI document', async (t) => {
  const { app } = await appWith(t)
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
  t.ok(doc.paths['/v1/tenants/{tenant}/holds'])
  t.ok(doc.paths['/v1/tenants/{tenant}/holds/{id}/release'].post.requestBody)
  t.ok(doc.paths['/v1/tenants/{tenant}/holds/{id}/discard'])
})
