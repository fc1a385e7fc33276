// Legal entities, absence types and absences through the projection into the views and out of the
// read API: tenant-scoped, paginated, absences filtered by employee and by overlapping days.
import t from 'tap'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openSqlViewStore } from '../../projections/viewstore/sql.ts'
import { applyEvents } from '../../projections/apply-events.ts'
import { decideEntityEvents, type EntityPrefix } from '../../processors/domain/index.ts'
import type { RecordedEvent } from '../../processors/eventstore/port.ts'
import { streamName, type StreamCategory } from '../../schemas/streams.ts'
import { buildApiApp, type ApiDeps } from '../app.ts'
import { createTenantAuthenticator, sha256Hex } from '../auth/tenant-tokens.ts'

const ACME = 'acme-secret-token-0123456789'
const GLOBEX = 'globex-secret-token-9876543210'
const base = { remote_id: null, changed_at: '2026-01-10T09:00:00.000Z', remote_deleted_at: null }
const absence = (id: string, employee: string, start: string, end: string) => ({
  ...base, id, employee_id: employee, approver_id: null, type_id: 'at-1', status: 'APPROVED', start_date: start, end_date: end,
  start_half_day: false, end_half_day: false, start_time: null, end_time: null, amount: 1, unit: 'DAYS',
})

t.test('legal entities, absence types and absences are served read-only per tenant', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const views = await openSqlViewStore(db)
  const recorded: RecordedEvent[] = []
  const record = (tenant: string, prefix: EntityPrefix, category: StreamCategory, r: { id: string; changed_at: string }) => {
    for (const e of decideEntityEvents(prefix, null, r, { tenant })) {
      recorded.push({ id: e.id, type: e.type, streamName: streamName(category, tenant, r.id), revision: 0n, position: BigInt(recorded.length), data: e.data as Record<string, unknown>, metadata: {}, recordedAt: new Date() })
    }
  }
  record('acme', 'LegalEntity', 'legalEntity', { ...base, id: 'le-1', name: 'Acme GmbH', address: { city: 'Berlin', country: 'DE' } } as never)
  record('acme', 'AbsenceType', 'absenceType', { ...base, id: 'at-1', name: 'Vacation', unit: 'DAYS', half_days_supported: true, exact_times_supported: false } as never)
  record('acme', 'Absence', 'absence', absence('ab-1', 'emp-1', '2026-03-02', '2026-03-06') as never)
  record('acme', 'Absence', 'absence', absence('ab-2', 'emp-1', '2026-04-01T00:00:00.000Z', '2026-04-03T00:00:00.000Z') as never)
  record('acme', 'Absence', 'absence', absence('ab-3', 'emp-2', '2026-03-05', '2026-03-05') as never)
  record('globex', 'Absence', 'absence', absence('ab-9', 'emp-1', '2026-03-01', '2026-03-31') as never)
  await views.transaction((tx) => applyEvents(tx, recorded))

  const deps: ApiDeps = {
    views,
    hrRecords: views,
    history: { userHistory: async () => null, userAsOf: async () => null },
    commands: { inviteUser: async () => ({ status: 'invited' as const }) },
    syncStatus: { list: async () => [] },
    tenants: createTenantAuthenticator([{ id: 'acme', tokenSha256: [sha256Hex(ACME)] }, { id: 'globex', tokenSha256: [sha256Hex(GLOBEX)] }]),
    readiness: async () => ({ ready: true, checks: {} }),
    metrics: { contentType: 'text/plain', render: async () => '' },
  }
  const app = await buildApiApp(deps, { logger: false })
  t.teardown(() => app.close())
  const get = async (url: string, token = ACME) => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })
    return { status: res.statusCode, body: res.json() }
  }
  const ids = (body: { data: Array<{ externalId: string }> }) => body.data.map((d) => d.externalId)

  const le = await get('/v1/tenants/acme/legal-entities')
  t.equal(le.status, 200)
  t.match(le.body.data, [{ externalId: 'le-1', name: 'Acme GmbH', address: { city: 'Berlin', country: 'DE' }, deleted: false }])
  t.match((await get('/v1/tenants/acme/legal-entities/le-1')).body, { name: 'Acme GmbH' })
  t.equal((await get('/v1/tenants/acme/legal-entities/le-404')).status, 404)
  t.match((await get('/v1/tenants/acme/absence-types/at-1')).body, { name: 'Vacation', unit: 'DAYS', halfDaysSupported: true })

  t.same(ids((await get('/v1/tenants/acme/absences')).body), ['ab-1', 'ab-2', 'ab-3'], 'only the tenant’s own')
  t.same(ids((await get('/v1/tenants/acme/absences?employee=emp-1')).body), ['ab-1', 'ab-2'])
  t.same(ids((await get('/v1/tenants/acme/absences?from=2026-03-05&to=2026-03-05')).body), ['ab-1', 'ab-3'], 'overlapping the day')
  t.same(ids((await get('/v1/tenants/acme/absences?from=2026-03-07')).body), ['ab-2'], 'midnight-UTC dates read as calendar days')
  t.same(ids((await get('/v1/tenants/acme/absences?employee=emp-1&to=2026-03-31')).body), ['ab-1'])
  t.match((await get('/v1/tenants/acme/absences/ab-1')).body, { employeeId: 'emp-1', typeId: 'at-1', startDate: '2026-03-02', status: 'APPROVED' })
  t.equal((await get('/v1/tenants/acme/absences/ab-9')).status, 404, 'another tenant’s absence is not found')
  t.equal((await get('/v1/tenants/acme/absences', GLOBEX)).status, 403)

  const first = (await get('/v1/tenants/acme/absences?limit=2')).body
  t.same(ids(first), ['ab-1', 'ab-2'])
  t.same(ids((await get(`/v1/tenants/acme/absences?limit=2&cursor=${first.next}`)).body), ['ab-3'], 'paginated')
  t.equal((await get('/v1/tenants/acme/absences?from=2026-13-01')).status, 400)
  t.equal((await get('/v1/tenants/acme/absences?from=2026-03-10&to=2026-03-01')).status, 400)
  const openapi = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> }
  t.ok(openapi.paths['/v1/tenants/{tenant}/absences'], 'in the OpenAPI document')
  t.ok(openapi.paths['/v1/tenants/{tenant}/legal-entities/{id}'])
})
