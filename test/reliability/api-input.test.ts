// Hostile read-API input (issue 12, items 8 and 9): NUL bytes and lone surrogates in every input
// the API takes, ids at and past the id limit, malformed URLs, unknown methods and oversized
// headers. Each answer must be a 4xx in the documented error shape — never a 500 — and no
// unstorable string may reach SQL. The views are the real SQL view store (embedded PGlite), and
// the command ports run the input through PostgreSQL as their adapters would, so input that
// slipped past validation would show up as the 500 it used to be.
import t from 'tap'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApiApp, type ApiDeps } from '../../api/app.ts'
import { createTenantAuthenticator, sha256Hex } from '../../api/auth/tenant-tokens.ts'
import { MAX_PARAM_LENGTH } from '../../api/errors.ts'
import { UserNotFoundError } from '../../api/ports.ts'
import { openSqlViewStore } from '../../projections/viewstore/sql.ts'
import { ENTITY_ID_MAX_LENGTH } from '../../schemas/kombo.ts'
import type { LearnAmpUser } from '../../schemas/learnamp.ts'
import { aLearnAmpUser } from '../support/learn-amp-user.ts'
import { isStorableText } from '../../schemas/storable-text.ts'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { recordTrial } from '../support/reliability-log.ts'

const TOKEN = 'acme-secret-token-0123456789'
const auth = { authorization: `Bearer ${TOKEN}` }

const user = (externalId: string): LearnAmpUser => aLearnAmpUser(externalId, { email: 'ada@acme.test' })

const longestAscii = 'x'.repeat(ENTITY_ID_MAX_LENGTH)
// 255 UTF-16 units of 3 UTF-8 bytes each: the longest id there is once percent-encoded.
const longestEncoded = '€'.repeat(ENTITY_ID_MAX_LENGTH)

async function hostileApp(t: { teardown(fn: () => unknown): void }) {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const views = await openSqlViewStore(db)
  await views.transaction((tx) =>
    tx.upsertUsers('acme', ['ada', longestAscii, longestEncoded].map((id) => ({ user: user(id), index: { teamIds: [], locationId: null, managerId: null } }))),
  )
  // What reached a port, so the test can check nothing unstorable got that far.
  const reached: string[] = []
  // The adapters behind these ports store or compare their input in PostgreSQL: do the same.
  const throughSql = async (...values: string[]) => {
    reached.push(...values)
    await db.query(`SELECT ${values.map((_, i) => `$${i + 1}::text`).join(', ')}`, values)
  }
  const deps: ApiDeps = {
    views,
    history: {
      userHistory: async (tenant, id) => (await throughSql(tenant, id), null),
      userAt: async (tenant, id) => (await throughSql(tenant, id), { found: false, message: 'not known' }),
      teamAt: async (tenant, id) => (await throughSql(tenant, id), { found: false, message: 'not known' }),
      locationAt: async (tenant, id) => (await throughSql(tenant, id), { found: false, message: 'not known' }),
    },
    changes: { listChanges: async (tenant, query) => (await throughSql(tenant, query.userId ?? '', query.cursor ?? ''), { data: [], next: null }) },
    commands: {
      inviteUser: async (tenant, id, actor) => {
        await throughSql(tenant, id, actor)
        throw new UserNotFoundError(tenant, id)
      },
    },
    syncStatus: { list: async (tenant) => (await throughSql(tenant), []) },
    tenants: createTenantAuthenticator([{ id: 'acme', tokenSha256: [sha256Hex(TOKEN)] }]),
    readiness: async () => ({ ready: true, checks: {} }),
    metrics: { contentType: 'text/plain', render: async () => '' },
    deadLetters: {
      list: async (tenant) => (await throughSql(tenant), []),
      redrive: async (tenant, id) => (await throughSql(tenant, id), { redriven: [], failed: [] }),
    },
    erasure: {
      eraseEmployee: async (request) => {
        await throughSql(request.tenant, request.employeeId, request.reason, request.actor)
        throw new UserNotFoundError(request.tenant, request.employeeId)
      },
    },
  }
  const app = await buildApiApp(deps)
  t.teardown(() => app.close())
  return { app, reached }
}


// One app for every subtest: opening PGlite is the slow part of this file.
const shared = hostileApp(t)

const isErrorShape = (body: unknown): body is { error: { code: string; message: string } } => {
  if (!body || typeof body !== 'object' || Object.keys(body).join() !== 'error') return false
  const error = (body as { error: unknown }).error
  return !!error && typeof error === 'object' && Object.keys(error).sort().join() === 'code,message' &&
    typeof (error as { code: unknown }).code === 'string' && typeof (error as { message: unknown }).message === 'string'
}

const parsed = (body: string): unknown => {
  try {
    return JSON.parse(body)
  } catch {
    return body
  }
}

// Values PostgreSQL cannot take as text, each placed alone and inside ordinary text.
const hostile: Array<[string, string]> = [
  ['a NUL byte', '\u0000'],
  ['a NUL inside text', 'ada\u0000x'],
  ['a lone high surrogate', '\ud800'],
  ['a lone low surrogate', 'x\udc00y'],
  ['a reversed surrogate pair', '\udc00\ud800'],
]

// Every API input that takes free text. `send` builds the request for one hostile value.
type Send = (app: FastifyInstance, value: string) => Promise<LightMyRequestResponse>
// Percent-encodes like encodeURIComponent, but a lone surrogate (which has no UTF-8 form) as its
// CESU-8 bytes (%ED%A0%80): the closest a client can send, and not valid UTF-8.
const enc = (v: string) =>
  v.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]|[\s\S]/g, (c) => {
    if (c.length === 2 || c < '\ud800' || c > '\udfff') return encodeURIComponent(c)
    const u = c.charCodeAt(0)
    return [0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('')
  })
const json = { ...auth, 'content-type': 'application/json' }
// `where`: a path segment (the router refuses invalid UTF-8 before any route: 400 bad_url), a query
// parameter (the query parser keeps invalid UTF-8 escapes as literal text, so a URL cannot carry a
// lone surrogate there at all: those cases are left out), or JSON (carries anything).
const inputs: Array<{ input: string; where: 'path' | 'query' | 'json'; send: Send }> = [
  { input: 'user id (path)', where: 'path', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/users/${enc(v)}`, headers: auth }) },
  { input: 'user id (history path)', where: 'path', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/users/${enc(v)}/history`, headers: auth }) },
  { input: 'user id (as-of path)', where: 'path', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/users/${enc(v)}?asOf=2024-01-01T00:00:00Z`, headers: auth }) },
  { input: 'team id (as-of path)', where: 'path', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/teams/${enc(v)}?knownAt=2024-01-01T00:00:00Z`, headers: auth }) },
  { input: 'query userId (changes)', where: 'query', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/changes?userId=${enc(v)}`, headers: auth }) },
  { input: 'query cursor (changes)', where: 'query', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/changes?cursor=${enc(v)}`, headers: auth }) },
  { input: 'team id (path)', where: 'path', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/teams/${enc(v)}`, headers: auth }) },
  { input: 'location id (path)', where: 'path', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/locations/${enc(v)}`, headers: auth }) },
  { input: 'dead-letter id (path)', where: 'path', send: (app, v) => app.inject({ method: 'POST', url: `/v1/tenants/acme/dead-letters/${enc(v)}/redrive`, headers: auth }) },
  { input: 'query team', where: 'query', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/users?team=${enc(v)}`, headers: auth }) },
  { input: 'query location', where: 'query', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/users?location=${enc(v)}`, headers: auth }) },
  { input: 'query q', where: 'query', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/users?q=${enc(v)}`, headers: auth }) },
  { input: 'query cursor (users)', where: 'query', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/users?cursor=${enc(v)}`, headers: auth }) },
  { input: 'query cursor (teams)', where: 'query', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/teams?cursor=${enc(v)}`, headers: auth }) },
  {
    input: 'a well-formed cursor holding the value',
    where: 'json',
    send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/acme/locations?cursor=${Buffer.from(JSON.stringify({ a: v })).toString('base64url')}`, headers: auth }),
  },
  { input: 'invite body actor', where: 'json', send: (app, v) => app.inject({ method: 'POST', url: '/v1/tenants/acme/users/ada/invite', headers: json, payload: JSON.stringify({ actor: v }) }) },
  { input: 'erasure body reason', where: 'json', send: (app, v) => app.inject({ method: 'DELETE', url: '/v1/tenants/acme/users/ada/personal-data', headers: json, payload: JSON.stringify({ reason: v }) }) },
  {
    input: 'erasure body actor',
    where: 'json',
    send: (app, v) => app.inject({ method: 'DELETE', url: '/v1/tenants/acme/users/ada/personal-data', headers: json, payload: JSON.stringify({ reason: 'TICKET-1', actor: v }) }),
  },
  { input: 'tenant (path)', where: 'path', send: (app, v) => app.inject({ method: 'GET', url: `/v1/tenants/${enc(v)}/users`, headers: auth }) },
]

t.test('NUL bytes and lone surrogates in any input are a 4xx in the error shape and never reach SQL', async (t) => {
  const { app, reached } = await shared
  let cases = 0
  let failures = 0
  for (const { input, where, send } of inputs) {
    for (const [what, value] of hostile) {
      const surrogate = !isStorableText(value.replace(/\u0000/g, ''))
      if (where === 'query' && surrogate) continue
      const res = await send(app, value)
      cases++
      const body = parsed(res.body)
      const ok = res.statusCode >= 400 && res.statusCode < 500 && isErrorShape(body)
      if (!ok) failures++
      t.ok(ok, `${input}, ${what}: ${res.statusCode} ${res.body.slice(0, 160)}`)
      // The tenant is checked by the auth hook before validation: a NUL in it is a 403.
      const expected = input.startsWith('tenant') && !surrogate ? 403 : 400
      t.equal(res.statusCode, expected, `${input}, ${what}: status`)
      if (where === 'path' && surrogate && isErrorShape(body)) t.equal(body.error.code, 'bad_url', `${input}, ${what}: code`)
    }
  }
  t.same(reached.filter((v) => !isStorableText(v)), [], 'no unstorable string reached a port')
  // The valid requests still work: the guard rejects only what SQL cannot take.
  t.equal((await app.inject({ method: 'GET', url: '/v1/tenants/acme/users/ada', headers: auth })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: `/v1/tenants/acme/users?q=${enc('😀 ada')}`, headers: auth })).statusCode, 200, 'surrogate pairs (emoji) are fine')
  recordTrial({
    fault: 'NUL bytes and lone surrogates in API input (path ids, tenant, team, location, q, cursors, invite actor, erasure reason/actor)',
    area: 'read API',
    mode: 'embedded',
    times: cases,
    outcome: '400 invalid_request / bad_url (403 for a tenant), in the error shape; nothing reached SQL',
    lost: 'nothing',
    test: 'test/reliability/api-input.test.ts',
    passed: failures === 0,
  })
})

t.test('ids: the one limit of the record schema is what the API serves, and past it every answer is in the error shape', async (t) => {
  const { app } = await shared
  const get = (path: string) => app.inject({ method: 'GET', url: `/v1/tenants/acme${path}`, headers: auth })

  const longest = await get(`/users/${longestAscii}`)
  t.equal(longest.statusCode, 200, `a ${ENTITY_ID_MAX_LENGTH}-character id (it syncs) can be fetched`)
  t.equal(longest.json().externalId, longestAscii)
  const encoded = await get(`/users/${enc(longestEncoded)}`)
  t.equal(enc(longestEncoded).length, MAX_PARAM_LENGTH, 'the longest id once percent-encoded is the router limit')
  t.equal(encoded.statusCode, 200, 'and so is one of 3-byte characters, percent-encoded')

  const cases: Array<[string, number, string]> = [
    [`/users/${'x'.repeat(ENTITY_ID_MAX_LENGTH + 1)}`, 400, 'invalid_request'],
    [`/users/${'x'.repeat(150)}`, 404, 'not_found'],
    [`/teams/${'x'.repeat(ENTITY_ID_MAX_LENGTH + 1)}`, 400, 'invalid_request'],
    [`/users/${'x'.repeat(MAX_PARAM_LENGTH + 1)}`, 414, 'uri_too_long'],
    [`/users/${'x'.repeat(5000)}`, 414, 'uri_too_long'],
    ['/users/%E0%A4%A', 400, 'bad_url'],
    ['/users/%ED%A0%80', 400, 'bad_url'],
    ['/users/%', 400, 'bad_url'],
  ]
  for (const [path, status, code] of cases) {
    const res = await get(path)
    t.equal(res.statusCode, status, path.slice(0, 60))
    const body = parsed(res.body)
    t.ok(isErrorShape(body), `${path.slice(0, 60)}: error shape (${res.body.slice(0, 120)})`)
    if (isErrorShape(body)) t.equal(body.error.code, code, path.slice(0, 60))
    t.ok(res.headers['x-request-id'], 'carries the request id')
  }
  const tooLong = await get(`/users/${'x'.repeat(ENTITY_ID_MAX_LENGTH + 1)}`)
  t.match(tooLong.json().error.message, `path parameter 'id' must be at most ${ENTITY_ID_MAX_LENGTH} characters long`)
})

t.test('unknown routes are 404 and unknown methods on a route are 405 with Allow, in the error shape', async (t) => {
  const { app } = await shared
  const wrongMethod = await app.inject({ method: 'DELETE', url: '/v1/tenants/acme/users', headers: auth })
  t.equal(wrongMethod.statusCode, 405)
  t.same(wrongMethod.json(), { error: { code: 'method_not_allowed', message: 'DELETE is not allowed here; use GET, HEAD' } })
  t.equal(wrongMethod.headers.allow, 'GET, HEAD')
  const put = await app.inject({ method: 'PUT', url: '/v1/tenants/acme/users/ada/invite', headers: auth })
  t.equal(put.statusCode, 405)
  t.equal(put.headers.allow, 'POST')
  const unknown = await app.inject({ method: 'GET', url: '/v1/tenants/acme/nothing-here', headers: auth })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().error.code, 'not_found')
  const trailing = await app.inject({ method: 'GET', url: '/v1/tenants/acme/users/ada/', headers: auth })
  t.equal(trailing.statusCode, 404, 'a GET route with a trailing slash is not found, not "GET is not allowed"')
})

t.test("Node's own errors (headers too large, malformed HTTP) are answered in the error shape", async (t) => {
  const { app } = await shared
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }

  const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/health/live', headers: { 'x-filler': 'a'.repeat(20_000) } }, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
  t.equal(big.status, 431)
  t.same(parsed(big.body), { error: { code: 'headers_too_large', message: 'the request headers are larger than the server accepts (16 KiB in all)' } })

  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'))
    let data = ''
    socket.on('data', (c) => (data += c))
    socket.on('close', () => resolve(data))
    socket.on('error', reject)
  })
  t.match(raw, /^HTTP\/1\.1 400 Bad Request\r\n/)
  t.same(parsed(raw.slice(raw.indexOf('\r\n\r\n') + 4)), { error: { code: 'bad_request', message: 'the request is not valid HTTP/1.1' } })
  recordTrial({
    fault: 'error answers outside the route handlers: malformed URL escapes, over-long path segments, unknown methods, headers over 16 KiB, malformed HTTP',
    area: 'read API',
    mode: 'embedded',
    times: 5,
    outcome: '400 bad_url / 414 uri_too_long / 405 method_not_allowed / 431 headers_too_large / 400 bad_request, all in the error shape',
    lost: 'nothing',
    test: 'test/reliability/api-input.test.ts',
    passed: true,
  })
})
