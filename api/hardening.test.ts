// The API's webhook route, rate limiting and erasure route, over in-memory fakes of the ports.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApiApp, type ApiAppOptions, type ApiDeps } from './app.ts'
import { createTenantAuthenticator, sha256Hex } from './auth/tenant-tokens.ts'
import { UserNotFoundError, type ErasureRequest, type KomboWebhookEvent } from './ports.ts'
import { komboSignature } from './webhooks/kombo-webhook.ts'
import { komboResources } from '../schemas/kombo.ts'

const ACME = 'acme-secret-token-0123456789'
const GLOBEX = 'globex-secret-token-9876543210'
const SECRET = 'kombo-webhook-secret-42'

function deps(over: Partial<ApiDeps> = {}): ApiDeps {
  const none = async () => null
  const notFound = async () => ({ found: false as const, message: 'not known' })
  const empty = async () => ({ data: [], next: null })
  return {
    views: { listUsers: empty, getUser: none, listTeams: empty, getTeam: none, listLocations: empty, getLocation: none },
    history: { userHistory: none, userAt: notFound, teamAt: notFound, locationAt: notFound },
    commands: { inviteUser: async () => ({ status: 'invited' as const }) },
    syncStatus: { list: async () => [] },
    tenants: createTenantAuthenticator([
      { id: 'acme', tokenSha256: [sha256Hex(ACME)] },
      { id: 'globex', tokenSha256: [sha256Hex(GLOBEX)] },
    ]),
    readiness: async () => ({ ready: true, checks: {} }),
    metrics: { contentType: 'text/plain', render: async () => '' },
    ...over,
  }
}

async function appWith(t: { teardown(fn: () => unknown): void }, d: ApiDeps, options: ApiAppOptions = {}): Promise<FastifyInstance> {
  const app = await buildApiApp(d, options)
  t.teardown(() => app.close())
  return app
}

const errorOf = (res: { json(): unknown }) => (res.json() as { error: { code: string; message: string } }).error

t.test('Kombo webhook route', async (t) => {
  const received: KomboWebhookEvent[] = []
  const app = await appWith(t, deps({ webhooks: { onKomboEvent: async (e) => void received.push(e) } }), { komboWebhook: { secret: SECRET } })
  // Formatting Kombo might use: the signature is over these exact bytes, not a re-serialisation.
  const raw = '{ "id": "wh_1",\n  "type": "data-changed", "data": { "integration_id": "personio:acme" } }'
  const post = (payload: string, signature?: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url: '/v1/webhooks/kombo', payload, headers: { 'content-type': contentType, ...(signature ? { 'x-kombo-signature': signature } : {}) } })

  const ok = await post(raw, komboSignature(SECRET, Buffer.from(raw)))
  t.equal(ok.statusCode, 202, ok.body)
  t.same(ok.json(), { status: 'accepted' })
  t.same(received, [{ kind: 'data-changed', webhookId: 'wh_1', integrationId: 'personio:acme', resources: [...komboResources] }], 'the port is called with the integration (no changed_models: every resource)')

  const replay = await post(raw, komboSignature(SECRET, Buffer.from(raw)))
  t.equal(replay.statusCode, 409)
  t.equal(errorOf(replay).code, 'replayed_webhook')

  const forged = await post(raw.replace('wh_1', 'wh_2'), komboSignature(SECRET, Buffer.from(raw)))
  t.equal(forged.statusCode, 401)
  t.equal(errorOf(forged).code, 'invalid_signature')
  t.match(errorOf(forged).message, /KOMBO_WEBHOOK_SECRET/, 'says what to check')

  const unsigned = await post(raw)
  t.equal(unsigned.statusCode, 401)

  const notKombo = '{"hello":"world"}'
  const bad = await post(notKombo, komboSignature(SECRET, Buffer.from(notKombo)))
  t.equal(bad.statusCode, 400)
  t.equal(errorOf(bad).code, 'invalid_payload')

  const textPlain = '{"id":"wh_3","type":"sync-finished","data":{"integration_id":"x"}}'
  t.equal((await post(textPlain, komboSignature(SECRET, Buffer.from(textPlain)), 'text/plain')).statusCode, 202, 'any content type: the signature decides')
  const ats = '{"id":"wh_4","type":"connection-flow-failed","data":{"integration_tool":"greenhouse"}}'
  const ignored = await post(ats, komboSignature(SECRET, Buffer.from(ats)))
  t.equal(ignored.statusCode, 202, 'a genuine webhook kombo-sync does not act on is still a 2xx (Kombo does not retry it)')
  t.same(ignored.json(), { status: 'ignored' })
  t.equal(received.length, 2, 'only accepted deliveries kombo-sync acts on reach the port')

  const token = await app.inject({ method: 'GET', url: '/v1/tenants/acme/users', headers: { authorization: `Bearer ${ACME}` } })
  t.equal(token.statusCode, 200, 'the JSON parser of the tenant routes is untouched by the webhook scope')
})

t.test('without a secret the webhook route says how to enable it', async (t) => {
  const app = await appWith(t, deps({ webhooks: { onKomboEvent: async () => void t.fail('not called') } }))
  const res = await app.inject({ method: 'POST', url: '/v1/webhooks/kombo', payload: '{}', headers: { 'content-type': 'application/json' } })
  t.equal(res.statusCode, 404)
  t.equal(errorOf(res).code, 'webhooks_disabled')
  t.match(errorOf(res).message, /KOMBO_WEBHOOK_SECRET/)
})

t.test('rate limiting: per token, per IP without a valid token, 429 in the error shape with Retry-After', async (t) => {
  const app = await appWith(t, deps(), { rateLimitPerMinute: 3 })
  const get = (token?: string, tenant = 'acme', ip = '10.0.0.1') =>
    app.inject({ method: 'GET', url: `/v1/tenants/${tenant}/users`, remoteAddress: ip, headers: token ? { authorization: `Bearer ${token}` } : {} })
  for (let i = 0; i < 3; i++) t.equal((await get(ACME)).statusCode, 200, `request ${i + 1} of 3`)
  const limited = await get(ACME)
  t.equal(limited.statusCode, 429)
  t.same(Object.keys(limited.json()), ['error'])
  t.equal(errorOf(limited).code, 'rate_limited')
  t.ok(Number(limited.headers['retry-after']) > 0, `Retry-After: ${limited.headers['retry-after']}`)
  t.notMatch(limited.body, ACME, 'the token is not echoed')

  t.equal((await get(GLOBEX, 'globex')).statusCode, 200, "another tenant's token has its own budget")
  t.equal((await get(ACME, 'acme', '10.9.9.9')).statusCode, 429, 'the same token from another IP shares its budget')

  // Made-up tokens do not buy fresh budgets: they count against the client's IP.
  for (let i = 0; i < 3; i++) t.equal((await get(`made-up-token-${i}`, 'acme', '10.0.0.2')).statusCode, 401)
  t.equal((await get('made-up-token-x', 'acme', '10.0.0.2')).statusCode, 429)
  t.equal((await get(undefined, 'acme', '10.0.0.3')).statusCode, 401, 'another IP is not limited')

  const health = await app.inject({ method: 'GET', url: '/health/live', remoteAddress: '10.0.0.2' })
  t.equal(health.statusCode, 200, 'probes are never limited')
})

t.test('erasure route', async (t) => {
  const requests: ErasureRequest[] = []
  const app = await appWith(
    t,
    deps({
      erasure: {
        eraseEmployee: async (r) => {
          requests.push(r)
          if (r.employeeId === 'nobody') throw new UserNotFoundError(r.tenant, r.employeeId)
          return { tenant: r.tenant, employeeId: r.employeeId, erasedAt: '2026-03-01T00:00:00.000Z', alreadyErased: false }
        },
      },
    }),
  )
  const del = (id: string, payload: unknown, token = ACME, tenant = 'acme') =>
    app.inject({ method: 'DELETE', url: `/v1/tenants/${tenant}/users/${id}/personal-data`, payload: payload as object, headers: { authorization: `Bearer ${token}` } })

  const ok = await del('ada', { reason: 'ticket GDPR-17', actor: 'dpo@acme' })
  t.equal(ok.statusCode, 200, ok.body)
  t.same(ok.json(), { status: 'erased', erasedAt: '2026-03-01T00:00:00.000Z', alreadyErased: false })
  t.same(requests, [{ tenant: 'acme', employeeId: 'ada', reason: 'ticket GDPR-17', actor: 'dpo@acme' }])

  t.equal((await del('ada', {})).statusCode, 400, 'a reason is required')
  t.equal((await del('ada', { reason: '   ' })).statusCode, 400, 'a blank reason is not a reason')
  t.equal((await del('nobody', { reason: 'x' })).statusCode, 404)
  t.equal((await del('ada', { reason: 'x' }, GLOBEX)).statusCode, 403, "another tenant's token cannot erase")
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/tenants/acme/users/ada/personal-data', payload: { reason: 'x' } })).statusCode, 401, 'a token is required')
  t.equal(requests.length, 2, 'only authorised, valid requests reach the port')
})
