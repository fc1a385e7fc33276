import t from 'tap'
import { Writable } from 'node:stream'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { buildApiApp, type ApiDeps } from './app.ts'
import { createTenantAuthenticator, sha256Hex } from './auth/tenant-tokens.ts'
import { InviteNotAllowedError, UserNotFoundError, type UserHistoryEntry } from './ports.ts'
import { InvalidCursorError, type Page, type UserQuery } from '../projections/viewstore/port.ts'
import type { TimeAxes } from '../projections/audit/bitemporal.ts'
import type { ChangeQuery } from '../projections/audit/change-log-store.ts'
import type { ChangeEntry } from '../schemas/audit.ts'
import type { LearnAmpLocation, LearnAmpTeam, LearnAmpUser } from '../schemas/learnamp.ts'

// ---- fakes of the ports (the API is the unit under test) ------------------------------------------

const ACME_TOKEN = 'acme-secret-token-0123456789'
const GLOBEX_TOKEN = 'globex-secret-token-9876543210'
const auth = (token: string) => ({ authorization: `Bearer ${token}` })
const acme = auth(ACME_TOKEN)

const engRef = { externalId: 'eng', name: 'Engineering', type: 'TEAM' as const }
const salesRef = { externalId: 'sales', name: 'Sales', type: 'TEAM' as const }
const berlinRef = { externalId: 'berlin', name: 'Berlin' }
const user = (externalId: string, over: Partial<LearnAmpUser> = {}): LearnAmpUser => ({
    externalId,
    remoteId: `r-${externalId}`,
    employeeNumber: null,
    firstName: externalId,
    lastName: 'Tester',
    displayName: `${externalId} Tester`,
    jobTitle: 'Engineer',
    email: `${externalId}@acme.test`,
    hireDate: '2024-01-01',
    leaveDate: null,
    manager: null,
    primaryTeam: engRef,
    teams: [engRef],
    primaryLocation: berlinRef,
    avatar: null,
    legalEntityId: null,
    employmentType: 'FULL_TIME',
    status: 'active',
    deactivationReason: null,
    invite: { status: 'none', dueAt: null, invitedAt: null },
    issues: [],
    ...over,
})

const acmeUsers: LearnAmpUser[] = [
  user('ada'),
  user('bob', { status: 'pending', primaryTeam: salesRef, teams: [salesRef] }),
  user('cyd', { status: 'deactivated', deactivationReason: 'left', primaryLocation: { externalId: 'paris', name: 'Paris' } }),
  user('dan'),
  user('eve', { jobTitle: 'Designer' }),
]
const team: LearnAmpTeam = { externalId: 'eng', remoteId: 'T1', name: 'Engineering', type: 'TEAM', parentId: null, deleted: false }
const location: LearnAmpLocation = { externalId: 'berlin', remoteId: 'L1', name: 'Berlin', type: 'OFFICE', address: null, deleted: false }

// Cursor = offset in the filtered list; anything else is rejected like a real view store would.
function paginate<T>(items: T[], limit: number, cursor?: string): Page<T> {
  let offset = 0
  if (cursor !== undefined) {
    const m = /^o(\d+)$/.exec(cursor)
    if (!m) throw new InvalidCursorError('not our cursor')
    offset = Number(m[1])
  }
  const data = items.slice(offset, offset + limit)
  return { data, next: offset + limit < items.length ? `o${offset + limit}` : null }
}

interface Calls {
  listUsers: Array<[string, UserQuery]>
  listTeams: Array<[string, { limit: number; cursor?: string }]>
  asOf: Array<[string, string, TimeAxes]>
  changes: Array<[string, ChangeQuery]>
  invites: Array<[string, string, string]>
}

function fakeDeps(over: Partial<ApiDeps> = {}) {
  const calls: Calls = { listUsers: [], listTeams: [], asOf: [], changes: [], invites: [] }
  const usersOf = (tenant: string) => (tenant === 'acme' ? acmeUsers : [])
  const changeEntry: ChangeEntry = {
    userId: 'ada',
    type: 'UserUpdated',
    at: '2024-05-31T10:00:00.000Z',
    recordedAt: '2024-06-01T00:00:00.000Z',
    changes: [{ field: 'jobTitle', before: 'Intern, "junior"', after: 'Engineer' }],
    cause: { kind: 'poll', pollId: 'p1' },
    eventId: 'e-42',
  }
  const history: UserHistoryEntry[] = [
    { revision: '0', position: '10', type: 'EmployeeImported', recordedAt: '2024-01-01T00:00:00.000Z', data: { entityId: 'ada' }, metadata: {} },
    { revision: '1', position: '42', type: 'EmployeeJobTitleChanged', recordedAt: '2024-06-01T00:00:00.000Z', data: { job_title: 'Engineer' }, metadata: { pollId: 'p1' } },
  ]
  const deps: ApiDeps = {
    views: {
      async listUsers(tenant, query) {
        calls.listUsers.push([tenant, query])
        const q = query.q?.toLowerCase()
        const rows = usersOf(tenant).filter(
          (u) =>
            (!query.status || u.status === query.status) &&
            (!query.team || u.teams.some((t) => t.externalId === query.team)) &&
            (!query.location || u.primaryLocation?.externalId === query.location) &&
            (!q || `${u.displayName} ${u.email} ${u.jobTitle}`.toLowerCase().includes(q)),
        )
        return paginate(rows, query.limit, query.cursor)
      },
      async getUser(tenant, id) {
        return usersOf(tenant).find((u) => u.externalId === id) ?? null
      },
      async listTeams(tenant, page) {
        calls.listTeams.push([tenant, page])
        return paginate(tenant === 'acme' ? [team] : [], page.limit, page.cursor)
      },
      async getTeam(tenant, id) {
        if (tenant !== 'acme' || id !== 'eng') return null
        return { ...team, members: [{ externalId: 'ada', displayName: 'ada Tester', status: 'active' }] }
      },
      async listLocations(tenant, page) {
        return paginate(tenant === 'acme' ? [location] : [], page.limit, page.cursor)
      },
      async getLocation(tenant, id) {
        return tenant === 'acme' && id === 'berlin' ? location : null
      },
    },
    history: {
      async userHistory(tenant, id) {
        return tenant === 'acme' && id === 'ada' ? { events: history, changes: [changeEntry] } : null
      },
      async userAt(tenant, id, axes) {
        calls.asOf.push([tenant, id, axes])
        if (tenant !== 'acme' || id !== 'ada' || (axes.asOf ?? axes.knownAt) < new Date('2024-01-01T00:00:00Z')) {
          return { found: false, message: `user '${id}' was not known then` }
        }
        return { found: true, value: { data: user('ada', { jobTitle: 'Intern' }), asOf: axes.asOf?.toISOString() ?? null, knownAt: axes.knownAt.toISOString(), knownSince: '2024-01-01T00:00:00.000Z', firstRecordedAt: '2024-01-02T00:00:00.000Z' } }
      },
      async teamAt(tenant, id, axes) {
        if (tenant !== 'acme' || id !== 'eng') return { found: false, message: `team '${id}' was not known then` }
        return { found: true, value: { data: { ...team, name: 'Old Engineering' }, asOf: axes.asOf?.toISOString() ?? null, knownAt: axes.knownAt.toISOString(), knownSince: '2024-01-01T00:00:00.000Z', firstRecordedAt: '2024-01-02T00:00:00.000Z' } }
      },
      async locationAt(_tenant, id) {
        return { found: false, message: `location '${id}' was not known then` }
      },
    },
    changes: {
      async listChanges(tenant, query) {
        calls.changes.push([tenant, query])
        return { data: tenant === 'acme' ? [changeEntry] : [], next: tenant === 'acme' && !query.cursor ? 'c1' : null }
      },
    },
    now: () => new Date('2024-07-01T00:00:00.000Z'),
    commands: {
      async inviteUser(tenant, id, actor) {
        calls.invites.push([tenant, id, actor])
        const u = usersOf(tenant).find((x) => x.externalId === id)
        if (!u) throw new UserNotFoundError(tenant, id)
        if (u.status === 'deactivated') throw new InviteNotAllowedError(tenant, id, 'the user is deactivated')
        return { status: 'invited' }
      },
    },
    syncStatus: {
      async list(tenant) {
        return [{ tenant, resource: 'employees', watermark: '2024-06-01T00:00:00Z', lagSeconds: 12, errors: 0 }]
      },
    },
    tenants: createTenantAuthenticator([
      { id: 'acme', tokenSha256: [sha256Hex(ACME_TOKEN)] },
      { id: 'globex', tokenSha256: [sha256Hex(GLOBEX_TOKEN)] },
    ]),
    readiness: async () => ({ ready: true, checks: { viewStore: { ok: true } } }),
    metrics: {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      render: async () => '# HELP kombo_sync_up 1\n# TYPE kombo_sync_up gauge\nkombo_sync_up 1\n',
    },
    ...over,
  }
  return { deps, calls }
}

async function appWith(t: { teardown(fn: () => unknown): void }, over: Partial<ApiDeps> = {}, logger?: Parameters<typeof buildApiApp>[1]) {
  const { deps, calls } = fakeDeps(over)
  const app = await buildApiApp(deps, logger)
  t.teardown(() => app.close())
  return { app, calls }
}

const get = (app: FastifyInstance, url: string, headers: Record<string, string> = acme) =>
  app.inject({ method: 'GET', url, headers })

const errorOf = (res: { json(): unknown }) => (res.json() as { error: { code: string; message: string } }).error

// ---- happy paths ----------------------------------------------------------------------------------

t.test('GET users returns a page with data and next', async (t) => {
  const { app, calls } = await appWith(t)
  const res = await get(app, '/v1/tenants/acme/users')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.data.length, 5)
  t.equal(body.next, null)
  t.same(calls.listUsers[0], ['acme', { limit: 50 }], 'default limit 50, no filters')
})

t.test('GET users passes every filter through and pages with the returned cursor', async (t) => {
  const { app, calls } = await appWith(t)
  const filtered = await get(app, '/v1/tenants/acme/users?status=active&team=eng&location=berlin&q=ENGINEER&limit=7')
  t.equal(filtered.statusCode, 200)
  t.same(calls.listUsers[0][1], { status: 'active', team: 'eng', location: 'berlin', q: 'ENGINEER', limit: 7 })
  t.same(
    filtered.json().data.map((u: LearnAmpUser) => u.externalId),
    ['ada', 'dan'],
  )

  const seen: string[] = []
  let url = '/v1/tenants/acme/users?limit=2'
  for (;;) {
    const page = await get(app, url)
    t.equal(page.statusCode, 200)
    const body = page.json()
    seen.push(...body.data.map((u: LearnAmpUser) => u.externalId))
    if (!body.next) break
    url = `/v1/tenants/acme/users?limit=2&cursor=${encodeURIComponent(body.next)}`
  }
  t.same(seen, ['ada', 'bob', 'cyd', 'dan', 'eve'], 'cursor pagination visits every user once')
  t.same(calls.listUsers.at(-1)?.[1], { limit: 2, cursor: 'o4' })
})

t.test('GET users/:id, now and as of an instant', async (t) => {
  const { app, calls } = await appWith(t)
  const now = await get(app, '/v1/tenants/acme/users/ada')
  t.equal(now.statusCode, 200)
  t.equal(now.json().jobTitle, 'Engineer')

  t.same(now.json(), user('ada'), 'without parameters: the bare view document, as before')
  t.equal(calls.asOf.length, 0, 'without parameters the history port is not asked')

  const then = await get(app, '/v1/tenants/acme/users/ada?asOf=2024-03-01T12:00:00%2B01:00')
  t.equal(then.statusCode, 200)
  t.equal(then.json().data.jobTitle, 'Intern', 'as-of read comes from the history port')
  t.same(
    { asOf: then.json().asOf, knownAt: then.json().knownAt, knownSince: then.json().knownSince },
    { asOf: '2024-03-01T11:00:00.000Z', knownAt: '2024-07-01T00:00:00.000Z', knownSince: '2024-01-01T00:00:00.000Z' },
    'the response says which instants were used: the offset is honoured, knownAt defaults to the service clock',
  )

  const known = await get(app, '/v1/tenants/acme/users/ada?knownAt=2024-02-01T00:00:00Z')
  t.equal(known.statusCode, 200)
  t.same(calls.asOf[1][2], { asOf: null, knownAt: new Date('2024-02-01T00:00:00Z') }, 'knownAt alone: recorded time only')
  t.equal(known.json().asOf, null)

  await get(app, '/v1/tenants/acme/users/ada?asOf=2024-03-01T00:00:00Z&knownAt=2024-03-05T00:00:00Z')
  t.same(calls.asOf[2][2], { asOf: new Date('2024-03-01T00:00:00Z'), knownAt: new Date('2024-03-05T00:00:00Z') }, 'both axes')

  const before = await get(app, '/v1/tenants/acme/users/ada?asOf=2023-01-01T00:00:00Z')
  t.equal(before.statusCode, 404)
  t.match(errorOf(before).message, /not known then/)

  const unknown = await get(app, '/v1/tenants/acme/users/nobody')
  t.equal(unknown.statusCode, 404)
  t.same(errorOf(unknown), { code: 'not_found', message: "no user 'nobody'" })
})

t.test('GET users/:id/history', async (t) => {
  const { app } = await appWith(t)
  const res = await get(app, '/v1/tenants/acme/users/ada/history')
  t.equal(res.statusCode, 200)
  t.same(
    res.json().data.map((e: UserHistoryEntry) => e.type),
    ['EmployeeImported', 'EmployeeJobTitleChanged'],
  )
  t.same(res.json().changes, [{ userId: 'ada', type: 'UserUpdated', at: '2024-05-31T10:00:00.000Z', recordedAt: '2024-06-01T00:00:00.000Z', changes: [{ field: 'jobTitle', before: 'Intern, "junior"', after: 'Engineer' }], cause: { kind: 'poll', pollId: 'p1' }, eventId: 'e-42' }], 'the readable changes beside the raw events')
  t.equal((await get(app, '/v1/tenants/acme/users/nobody/history')).statusCode, 404)
})

t.test('GET teams/:id and locations/:id on the time axes', async (t) => {
  const { app } = await appWith(t)
  const now = await get(app, '/v1/tenants/acme/teams/eng')
  t.ok(Array.isArray(now.json().members), 'without parameters: the view with its members')
  const then = await get(app, '/v1/tenants/acme/teams/eng?asOf=2024-02-01T00:00:00Z')
  t.equal(then.statusCode, 200)
  t.equal(then.json().data.name, 'Old Engineering')
  t.equal(then.json().asOf, '2024-02-01T00:00:00.000Z')
  const location = await get(app, '/v1/tenants/acme/locations/berlin?knownAt=2024-02-01T00:00:00Z')
  t.equal(location.statusCode, 404)
  t.match(errorOf(location).message, /not known then/)
  const bad = await get(app, '/v1/tenants/acme/teams/eng?knownAt=last-week')
  t.equal(bad.statusCode, 400)
  t.match(errorOf(bad).message, /query parameter 'knownAt' must be an ISO 8601 date-time/)
})

t.test('GET changes: filters, cursor, CSV, bad values', async (t) => {
  const { app, calls } = await appWith(t)
  const res = await get(app, '/v1/tenants/acme/changes?from=2024-05-01T00:00:00Z&to=2024-06-01T00:00:00Z&type=UserUpdated&userId=ada&field=jobTitle&limit=10')
  t.equal(res.statusCode, 200)
  t.equal(res.json().next, 'c1')
  t.equal(res.json().data[0].eventId, 'e-42')
  t.same(calls.changes[0], ['acme', { from: '2024-05-01T00:00:00Z', to: '2024-06-01T00:00:00Z', axis: 'hr', type: 'UserUpdated', userId: 'ada', field: 'jobTitle', limit: 10 }], 'HR time by default')
  await get(app, '/v1/tenants/acme/changes?axis=recorded&cursor=c1')
  t.same(calls.changes[1][1], { axis: 'recorded', cursor: 'c1', limit: 50 })

  const csv = await get(app, '/v1/tenants/acme/changes', { ...acme, accept: 'text/csv' })
  t.equal(csv.statusCode, 200)
  t.match(csv.headers['content-type'], /^text\/csv/)
  t.equal(csv.headers['x-next-cursor'], 'c1', 'the next cursor travels in a header')
  t.equal(
    csv.body,
    'eventId,userId,type,at,recordedAt,field,before,after,causeKind,causeActor,causePollId\r\n' +
      'e-42,ada,UserUpdated,2024-05-31T10:00:00.000Z,2024-06-01T00:00:00.000Z,jobTitle,"Intern, ""junior""",Engineer,poll,,p1\r\n',
  )
  t.match((await get(app, '/v1/tenants/acme/changes', { ...acme, accept: 'application/json, text/csv' })).headers['content-type'], /json/, 'JSON when preferred')

  for (const [url, message] of [
    ['/v1/tenants/acme/changes?from=March', /query parameter 'from' must be an ISO 8601 date-time/],
    ['/v1/tenants/acme/changes?axis=valid', /query parameter 'axis' must be one of hr, recorded/],
    ['/v1/tenants/acme/changes?type=UserMoved', /query parameter 'type' must be one of UserCreated/],
    ['/v1/tenants/acme/changes?field=salary', /query parameter 'field' must be one of/],
    ['/v1/tenants/acme/changes?from=2024-06-01T00:00:00Z&to=2024-05-01T00:00:00Z', /query parameter 'to' must be after from/],
  ] as const) {
    const r = await get(app, url)
    t.equal(r.statusCode, 400, url)
    t.match(errorOf(r).message, message, url)
  }
})

t.test('POST users/:id/invite: 202, 404, 409 with the reason', async (t) => {
  const { app, calls } = await appWith(t)
  const ok = await app.inject({ method: 'POST', url: '/v1/tenants/acme/users/bob/invite', headers: acme })
  t.equal(ok.statusCode, 202)
  t.same(ok.json(), { status: 'invited' })
  t.same(calls.invites[0], ['acme', 'bob', 'api'])

  const withActor = await app.inject({
    method: 'POST',
    url: '/v1/tenants/acme/users/ada/invite',
    headers: acme,
    payload: { actor: 'hr-admin@acme.test' },
  })
  t.equal(withActor.statusCode, 202)
  t.same(calls.invites[1], ['acme', 'ada', 'hr-admin@acme.test'])

  const missing = await app.inject({ method: 'POST', url: '/v1/tenants/acme/users/nobody/invite', headers: acme })
  t.equal(missing.statusCode, 404)
  t.equal(errorOf(missing).code, 'not_found')

  const refused = await app.inject({ method: 'POST', url: '/v1/tenants/acme/users/cyd/invite', headers: acme })
  t.equal(refused.statusCode, 409)
  t.same(errorOf(refused), { code: 'invite_not_allowed', message: "user 'cyd' cannot be invited: the user is deactivated" })

  const badBody = await app.inject({
    method: 'POST',
    url: '/v1/tenants/acme/users/ada/invite',
    headers: acme,
    payload: { actor: 'x', admin: true },
  })
  t.equal(badBody.statusCode, 400)
  t.match(errorOf(badBody).message, /body field 'admin' is not supported/)

  const huge = await app.inject({
    method: 'POST',
    url: '/v1/tenants/acme/users/ada/invite',
    headers: { ...acme, 'content-type': 'application/json' },
    payload: JSON.stringify({ actor: 'x'.repeat(70 * 1024) }),
  })
  t.equal(huge.statusCode, 413, 'bodies over 64 KiB are refused')
  t.equal(errorOf(huge).code, 'payload_too_large')
})

t.test('teams, locations and sync', async (t) => {
  const { app, calls } = await appWith(t)
  const teams = await get(app, '/v1/tenants/acme/teams?limit=10')
  t.equal(teams.statusCode, 200)
  t.same(teams.json(), { data: [team], next: null })
  t.same(calls.listTeams[0], ['acme', { limit: 10 }])

  const eng = await get(app, '/v1/tenants/acme/teams/eng')
  t.equal(eng.statusCode, 200)
  t.same(eng.json().members, [{ externalId: 'ada', displayName: 'ada Tester', status: 'active' }])
  t.equal((await get(app, '/v1/tenants/acme/teams/nope')).statusCode, 404)

  const locations = await get(app, '/v1/tenants/acme/locations')
  t.same(locations.json(), { data: [location], next: null })
  t.same((await get(app, '/v1/tenants/acme/locations/berlin')).json(), location)
  const noLocation = await get(app, '/v1/tenants/acme/locations/atlantis')
  t.equal(noLocation.statusCode, 404)
  t.equal(errorOf(noLocation).message, "no location 'atlantis'")

  const sync = await get(app, '/v1/tenants/acme/sync')
  t.equal(sync.statusCode, 200)
  t.equal(sync.json().data[0].resource, 'employees')
  t.equal(sync.json().data[0].tenant, 'acme')
})

// ---- bad input ------------------------------------------------------------------------------------

t.test('400s name the bad parameter and say why', async (t) => {
  const { app } = await appWith(t)
  const cases: Array<[string, RegExp]> = [
    ['/v1/tenants/acme/users?status=retired', /query parameter 'status' must be one of pending, active, deactivated \(got 'retired'\)/],
    ['/v1/tenants/acme/users?limit=0', /query parameter 'limit' must be at least 1/],
    ['/v1/tenants/acme/users?limit=201', /query parameter 'limit' must be at most 200/],
    ['/v1/tenants/acme/users?limit=ten', /query parameter 'limit' must be a number/],
    ['/v1/tenants/acme/users?limit=2.5', /query parameter 'limit' must be a whole number/],
    ['/v1/tenants/acme/users?limit=1&limit=2', /query parameter 'limit' must be given at most once/],
    ['/v1/tenants/acme/users?stauts=active', /query parameter 'stauts' is not supported/],
    ['/v1/tenants/acme/users?q=', /query parameter 'q' must not be empty/],
    ['/v1/tenants/acme/users/ada?asOf=yesterday', /query parameter 'asOf' must be an ISO 8601 date-time/],
    ['/v1/tenants/acme/users/ada?asOf=2024-02-30T00:00:00Z', /query parameter 'asOf' must be an ISO 8601 date-time/],
    ['/v1/tenants/acme/teams?limit=-1', /query parameter 'limit' must be at least 1/],
  ]
  for (const [url, message] of cases) {
    const res = await get(app, url)
    t.equal(res.statusCode, 400, url)
    t.equal(errorOf(res).code, 'invalid_request', url)
    t.match(errorOf(res).message, message, url)
  }
})

t.test('a cursor the view store did not issue is a 400 naming the cursor', async (t) => {
  const { app } = await appWith(t)
  for (const url of ['/v1/tenants/acme/users?cursor=forged', '/v1/tenants/acme/teams?cursor=forged', '/v1/tenants/acme/locations?cursor=x']) {
    const res = await get(app, url)
    t.equal(res.statusCode, 400, url)
    t.equal(errorOf(res).code, 'invalid_cursor')
    t.match(errorOf(res).message, /query parameter 'cursor'/)
  }
})

t.test('malformed JSON and unknown routes get the same error shape', async (t) => {
  const { app } = await appWith(t)
  const badJson = await app.inject({
    method: 'POST',
    url: '/v1/tenants/acme/users/ada/invite',
    headers: { ...acme, 'content-type': 'application/json' },
    payload: '{"actor":',
  })
  t.equal(badJson.statusCode, 400)
  t.equal(errorOf(badJson).code, 'bad_request')
  const unknown = await get(app, '/v2/whatever')
  t.equal(unknown.statusCode, 404)
  t.same(errorOf(unknown), { code: 'not_found', message: 'no route GET /v2/whatever' })
})

// ---- auth -----------------------------------------------------------------------------------------

t.test('bearer auth matrix', async (t) => {
  const { app, calls } = await appWith(t)
  const cases: Array<[string, Record<string, string>, number, string]> = [
    ['no header', {}, 401, 'unauthorized'],
    ['not a bearer header', { authorization: `Basic ${ACME_TOKEN}` }, 401, 'unauthorized'],
    ['empty bearer', { authorization: 'Bearer ' }, 401, 'unauthorized'],
    ['wrong token', auth('guess'), 401, 'unauthorized'],
    ['own token', acme, 200, ''],
    ['lower-case scheme', { authorization: `bearer ${ACME_TOKEN}` }, 200, ''],
    ['other tenant token', auth(GLOBEX_TOKEN), 403, 'forbidden'],
  ]
  for (const [name, headers, status, code] of cases) {
    const res = await get(app, '/v1/tenants/acme/users', headers)
    t.equal(res.statusCode, status, name)
    if (code) t.equal(errorOf(res).code, code, name)
    if (status === 401) t.match(res.headers['www-authenticate'], /^Bearer/, name)
  }

  const unknownTenant = await get(app, '/v1/tenants/initech/users', acme)
  const crossTenant = await get(app, '/v1/tenants/globex/users', acme)
  t.equal(unknownTenant.statusCode, 403, 'an unknown tenant looks like a forbidden one')
  t.equal(crossTenant.statusCode, 403)
  t.equal(errorOf(unknownTenant).code, errorOf(crossTenant).code)
  t.equal((await get(app, '/v1/tenants/initech/users', auth('guess'))).statusCode, 401)

  // Auth runs before validation and before any port is called.
  const before = calls.listUsers.length
  const denied = await get(app, '/v1/tenants/globex/users?limit=oops', acme)
  t.equal(denied.statusCode, 403, 'a bad parameter does not leak past auth')
  const invite = await app.inject({ method: 'POST', url: '/v1/tenants/globex/users/ada/invite', headers: acme })
  t.equal(invite.statusCode, 403)
  t.equal(calls.listUsers.length, before)
  t.equal(calls.invites.length, 0)

  // Every tenant route is protected.
  for (const path of ['users', 'users/ada', 'users/ada/history', 'teams', 'teams/eng', 'locations', 'locations/berlin', 'sync']) {
    t.equal((await get(app, `/v1/tenants/acme/${path}`, {})).statusCode, 401, path)
    t.equal((await get(app, `/v1/tenants/acme/${path}`, auth(GLOBEX_TOKEN))).statusCode, 403, path)
  }
})

// ---- operations -----------------------------------------------------------------------------------

t.test('health, readiness and metrics', async (t) => {
  const { app } = await appWith(t)
  const live = await get(app, '/health/live', {})
  t.equal(live.statusCode, 200)
  const ready = await get(app, '/health/ready', {})
  t.equal(ready.statusCode, 200)
  t.equal(ready.json().ready, true)

  const metrics = await get(app, '/metrics', {})
  t.equal(metrics.statusCode, 200)
  t.equal(metrics.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
  t.match(metrics.body, /^kombo_sync_up 1$/m)
})

t.test('readiness is 503 with the failing checks', async (t) => {
  const { app } = await appWith(t, {
    readiness: async () => ({ ready: false, checks: { viewStore: { ok: true }, eventStore: { ok: false, detail: 'connection refused' } } }),
  })
  const res = await get(app, '/health/ready', {})
  t.equal(res.statusCode, 503)
  t.same(res.json().checks.eventStore, { ok: false, detail: 'connection refused' })

  const { app: broken } = await appWith(t, {
    readiness: async () => {
      throw new Error('boom')
    },
  })
  const failed = await get(broken, '/health/ready', {})
  t.equal(failed.statusCode, 503)
  t.equal(failed.json().ready, false)
})

t.test('the OpenAPI document lists every route and the docs UI is served', async (t) => {
  const { app } = await appWith(t)
  const res = await get(app, '/openapi.json', {})
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.equal(doc.openapi, '3.1.0')
  const paths = Object.keys(doc.paths)
  for (const p of [
    '/v1/tenants/{tenant}/users',
    '/v1/tenants/{tenant}/users/{id}',
    '/v1/tenants/{tenant}/users/{id}/history',
    '/v1/tenants/{tenant}/users/{id}/invite',
    '/v1/tenants/{tenant}/teams',
    '/v1/tenants/{tenant}/teams/{id}',
    '/v1/tenants/{tenant}/locations',
    '/v1/tenants/{tenant}/locations/{id}',
    '/v1/tenants/{tenant}/sync',
    '/v1/tenants/{tenant}/changes',
    '/health/live',
    '/health/ready',
    '/metrics',
  ]) {
    t.ok(paths.includes(p), `documents ${p}`)
  }
  const listParams = doc.paths['/v1/tenants/{tenant}/users'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)
  t.same(listParams.sort(), ['path:tenant', 'query:cursor', 'query:issue', 'query:limit', 'query:location', 'query:q', 'query:status', 'query:team'])
  const changeParams = doc.paths['/v1/tenants/{tenant}/changes'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)
  t.same(changeParams.sort(), ['path:tenant', 'query:axis', 'query:cursor', 'query:field', 'query:from', 'query:limit', 'query:to', 'query:type', 'query:userId'], 'the change log documents its filters')
  for (const path of ['/v1/tenants/{tenant}/users/{id}', '/v1/tenants/{tenant}/teams/{id}', '/v1/tenants/{tenant}/locations/{id}']) {
    const names = doc.paths[path].get.parameters.filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name)
    t.same(names.sort(), ['asOf', 'knownAt'], `${path} documents both time axes`)
  }
  t.same(doc.paths['/v1/tenants/{tenant}/users'].get.security, [{ tenantToken: [] }])
  t.ok(doc.components.securitySchemes.tenantToken)

  const ui = await get(app, '/docs/', {})
  t.equal(ui.statusCode, 200)
  t.match(ui.headers['content-type'], /text\/html/)
})

t.test('security headers and request id on every response', async (t) => {
  const { app } = await appWith(t)
  for (const res of [await get(app, '/v1/tenants/acme/users'), await get(app, '/nope'), await get(app, '/v1/tenants/acme/users', {})]) {
    t.equal(res.headers['x-content-type-options'], 'nosniff')
    t.equal(res.headers['x-frame-options'], 'DENY')
    t.equal(res.headers['cache-control'], 'no-store')
    t.match(res.headers['content-security-policy'], /default-src 'none'/)
    t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  }
  const traced = await get(app, '/health/live', { 'x-request-id': 'lb-abc.123' })
  t.equal(traced.headers['x-request-id'], 'lb-abc.123', 'a sane incoming request id is kept')
  const weird = await get(app, '/health/live', { 'x-request-id': 'x'.repeat(200) })
  t.not(weird.headers['x-request-id'], 'x'.repeat(200))
})

// ---- failures and logs ----------------------------------------------------------------------------

function captureLogs() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk))
      done()
    },
  })
  return { lines, stream }
}

t.test('a failing port is a generic 500, logged with the request id and never shows a stack', async (t) => {
  const { lines, stream } = captureLogs()
  const { deps } = fakeDeps()
  const { app } = await appWith(
    t,
    {
      views: {
        ...deps.views,
        getUser: async () => {
          throw new Error('relation "users" does not exist at /srv/db.ts:12')
        },
      },
    },
    { logger: { stream, level: 'info' } },
  )
  const res = await get(app, '/v1/tenants/acme/users/ada', { ...acme, 'x-request-id': 'req-500-test' })
  t.equal(res.statusCode, 500)
  t.same(errorOf(res), { code: 'internal_error', message: 'something went wrong on our side; quote request id req-500-test when reporting it' })
  t.notMatch(res.body, /relation|db\.ts|\bat\b.*:\d+/)
  const logged = lines.map((l) => JSON.parse(l)).find((l) => l.level === 50)
  t.ok(logged, 'the error is logged')
  t.equal(logged.requestId, 'req-500-test')
  t.match(logged.err.message, /relation "users" does not exist/)
})

t.test('the Authorization header never reaches the logs', async (t) => {
  const { lines, stream } = captureLogs()
  const { app } = await appWith(t, {}, { logger: { stream, level: 'info' } })
  await get(app, '/v1/tenants/acme/users')
  await get(app, '/v1/tenants/globex/users')
  await get(app, '/v1/tenants/acme/users', { authorization: 'Bearer not-a-real-token-xyz', cookie: 'session=cookie-secret' })
  const all = lines.join('')
  t.ok(lines.length >= 3, 'requests were logged')
  t.match(all, /"authorization":"\[redacted\]"/, 'the header is logged, redacted')
  t.notMatch(all, ACME_TOKEN)
  t.notMatch(all, 'not-a-real-token-xyz')
  t.notMatch(all, 'cookie-secret')
})

t.test('property: random paths and query strings never produce a 5xx or a stack trace', async (t) => {
  // Rate limiting off: 1000 requests from one client would otherwise mostly test the 429.
  const { app } = await appWith(t, {}, { rateLimitPerMinute: 0 })
  const routes = [
    ['GET', 'users'],
    ['GET', 'users/:id'],
    ['GET', 'users/:id/history'],
    ['POST', 'users/:id/invite'],
    ['GET', 'teams'],
    ['GET', 'teams/:id'],
    ['GET', 'locations'],
    ['GET', 'locations/:id'],
    ['GET', 'sync'],
    ['DELETE', 'users/:id/personal-data'],
  ] as const
  const paramNames = ['status', 'team', 'location', 'q', 'limit', 'cursor', 'asOf', 'foo', '__proto__', 'constructor']
  const value = fc.oneof(fc.string(), fc.constantFrom('0', '-1', '1e3', '201', 'NaN', 'active', 'o1', 'o999', '2024-01-01T00:00:00Z', ''))
  const arbitrary = fc.record({
    route: fc.constantFrom(...routes.map(([method, template]) => ({ method, template }))),
    // Mostly the caller's own tenant and token, so most runs get past auth into validation and the ports.
    tenant: fc.oneof({ arbitrary: fc.constant('acme'), weight: 4 }, fc.constantFrom('globex', 'initech'), fc.string({ minLength: 1 })),
    id: fc.oneof(fc.constantFrom('ada', 'cyd', 'nobody', 'eng', 'berlin'), fc.string({ minLength: 1, maxLength: 300 })),
    query: fc.array(fc.tuple(fc.oneof({ arbitrary: fc.constantFrom(...paramNames), weight: 5 }, fc.string()), value), { maxLength: 3 }),
    token: fc.oneof({ arbitrary: fc.constant(ACME_TOKEN), weight: 4 }, fc.constantFrom(GLOBEX_TOKEN, 'nope', '')),
    body: fc.option(fc.oneof(fc.string(), fc.json()), { nil: undefined }),
  })
  await fc.assert(
    fc.asyncProperty(arbitrary, async ({ route: { method, template }, tenant, id, query, token, body }) => {
      const path = template.replace(':id', encodeURIComponent(id))
      const qs = query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
      const headers: Record<string, string> = token ? auth(token) : {}
      if (body !== undefined) headers['content-type'] = 'application/json'
      const res = await app.inject({
        method,
        url: `/v1/tenants/${encodeURIComponent(tenant)}/${path}${qs ? `?${qs}` : ''}`,
        headers,
        payload: body,
      })
      if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${method} ${path}?${qs}: ${res.body}`)
      if (/\n\s+at /.test(res.body)) throw new Error(`stack trace in body: ${res.body}`)
      if (res.statusCode >= 400) {
        const err = errorOf(res)
        if (typeof err.code !== 'string' || typeof err.message !== 'string' || !err.message) throw new Error(`bad error shape: ${res.body}`)
      }
    }),
    { numRuns: 1000 },
  )
  t.pass('1000 random requests, no 5xx')
})
