// The tenant's own audit trail in the tenant-wide change log (`GET /changes`), on PGlite and
// PostgreSQL: an operator's policy change, token rotation, pause/resume and an offboarding with
// erase, made through TenantAdministration on the real stores, read back through the real API
// (JSON and CSV) and the merged reader: actor, before → after, one stable order with its cursor,
// filters, tenant isolation, and no token, hash or erased employee's data anywhere.
import t, { type Test } from 'tap'
import { forEachSqlDriver } from '../test/support/sql-drivers.ts'
import type { SqlDatabase } from '../sql/database.ts'
import { openSqlViewStore } from '../projections/viewstore/sql.ts'
import { purgeUserFromViewsIn } from '../projections/viewstore/erase-user.ts'
import { insertChanges, openChangeLogReader, type ChangeQuery } from '../projections/audit/change-log-store.ts'
import { openSqlPersonalDataKeys } from '../processors/eventstore/personal-data-keys.ts'
import { InMemorySyncStateStore } from '../producers/sync-state/memory.ts'
import { buildApiApp } from '../api/app.ts'
import type { ApiDeps } from '../api/ports.ts'
import type { ChangeEntry, ChangeLogEntry } from '../schemas/audit.ts'
import { openSqlTenantStore } from './sql.ts'
import { TenantDirectory } from './directory.ts'
import { directoryAuthenticator } from './authenticator.ts'
import { TenantAdministration } from './administration.ts'
import { tenantChangeSource } from './change-log.ts'

const userEntry = (userId: string, at: string, title: string): ChangeEntry => ({
  userId,
  type: 'UserUpdated',
  at,
  recordedAt: at,
  changes: [{ field: 'jobTitle', before: null, after: title }],
  cause: { kind: 'poll' },
  eventId: `ev-${userId}-${at}`,
})

async function setUp(t: Test, db: SqlDatabase) {
  await db.exec('DROP TABLE IF EXISTS tenant_tokens, tenants, tenant_audit, tenant_directory_version, audit_changes, view_entity_states, view_users, personal_data_keys CASCADE')
  const views = await openSqlViewStore(db)
  await openSqlPersonalDataKeys(db) // its table: the erasure lists the employees not yet erased from it too
  const store = await openSqlTenantStore(db)
  const directory = await TenantDirectory.open(store)
  const admin = new TenantAdministration({
    store,
    directory,
    db,
    syncState: new InMemorySyncStateStore(),
    // As the per-employee erasure does to the views (its key deletion is not this test's subject).
    eraseEmployee: (tenant, id) => db.transaction((tx) => purgeUserFromViewsIn(tx, tenant, id)),
    now: () => new Date(),
  })
  const reader = openChangeLogReader(db, tenantChangeSource(db))
  const deps = { views, changes: reader, tenants: directoryAuthenticator(directory) } as unknown as ApiDeps
  const app = await buildApiApp(deps, { logger: false })
  t.teardown(() => app.close())
  return { db, store, directory, admin, reader, app }
}

/** Every entry of the query, page by page of `limit`. */
async function allPages(reader: ReturnType<typeof openChangeLogReader>, tenant: string, query: Partial<ChangeQuery>, limit: number): Promise<ChangeLogEntry[]> {
  const out: ChangeLogEntry[] = []
  let cursor: string | undefined
  do {
    const page = await reader.listChanges(tenant, { axis: 'hr', limit, ...query, cursor })
    out.push(...page.data)
    cursor = page.next ?? undefined
  } while (cursor)
  return out
}

forEachSqlDriver(t, async (t, db) => {
  const { admin, reader, app } = await setUp(t, db)
  const acme = await admin.create({ id: 'acme', integrationId: 'acme-int', settings: { invitePolicy: { mode: 'manual' } } }, 'ops@learnamp')
  const globex = await admin.create({ id: 'globex', integrationId: 'globex-int' }, 'ops@learnamp')
  // A user of acme with a change of their own (as the projector writes it), and an employee state to erase.
  await db.query("INSERT INTO view_entity_states (tenant, category, id, state) VALUES ('acme', 'employee', 'ada', $1::jsonb)", [JSON.stringify({ status: 'active', invite: { status: 'invited' } })])
  const now = Date.now()
  await insertChanges(db, 'acme', [{ entry: userEntry('ada', new Date(now - 60_000).toISOString(), 'Ada Lovelace, Analyst'), position: 1n }])
  await insertChanges(db, 'globex', [{ entry: userEntry('bob', new Date(now - 60_000).toISOString(), 'Globex person'), position: 2n }])

  await admin.patch('acme', { invitePolicy: { mode: 'immediate' } }, { dryRun: true, actor: 'ops@learnamp' })
  await admin.patch('acme', { invitePolicy: { mode: 'immediate' }, timeZone: 'Europe/Berlin' }, { dryRun: false, actor: 'ops@learnamp' })
  const issued = await admin.issueToken('acme', 'ops@learnamp')
  await admin.revokeToken('acme', acme.token.id, 'ops@learnamp')
  await admin.patch('acme', { paused: true }, { dryRun: false, actor: 'ops@learnamp' })
  await admin.patch('acme', { paused: false }, { dryRun: false, actor: 'ops@learnamp' })

  const get = (tenant: string, token: string, query = '', accept = 'application/json') =>
    app.inject({ method: 'GET', url: `/v1/tenants/${tenant}/changes${query}`, headers: { authorization: `Bearer ${token}`, accept } })

  t.test('a policy change, a token rotation and a pause/resume are in GET /changes with who and before → after', async (t) => {
    const res = await get('acme', issued.token, '?limit=200')
    t.equal(res.statusCode, 200)
    const entries = res.json().data as ChangeLogEntry[]
    t.same(entries.map((e) => e.type), ['UserUpdated', 'TenantCreated', 'TenantSettingsChanged', 'TenantTokensChanged', 'TenantTokensChanged', 'TenantSettingsChanged', 'TenantSettingsChanged'], 'in time order, the dry run not recorded')
    const policy = entries[2]
    t.match(policy, { userId: null, cause: { kind: 'admin', actor: 'ops@learnamp', action: 'tenant.invite-policy-changed' }, eventId: /^tenant-audit-\d+$/ })
    t.same(policy.changes, [
      { field: 'invitePolicy', before: { mode: 'manual' }, after: { mode: 'immediate' } },
      { field: 'timeZone', before: 'UTC', after: 'Europe/Berlin' },
    ])
    t.same(entries[3].changes, [{ field: 'token', before: null, after: issued.id }], 'a token issued: its id')
    t.same(entries[4].changes, [{ field: 'token', before: acme.token.id, after: null }], 'a token revoked')
    t.same(entries[5].changes, [{ field: 'paused', before: false, after: true }, { field: 'status', before: 'active', after: 'paused' }])
    t.same(entries[6].changes, [{ field: 'paused', before: true, after: false }, { field: 'status', before: 'paused', after: 'active' }])
    t.ok(Date.parse(policy.at) > 0 && policy.at === policy.recordedAt)
    t.notOk(JSON.stringify(entries).includes(issued.token), 'no token')
    t.notOk(/[0-9a-f]{64}/.test(JSON.stringify(entries)), 'no token hash')

    const csv = await get('acme', issued.token, '?limit=200', 'text/csv')
    t.equal(csv.statusCode, 200)
    t.match(csv.headers['content-type'], /text\/csv/)
    const policyRow = csv.body.split('\r\n').find((line) => line.includes('TenantSettingsChanged') && line.includes('invitePolicy'))
    t.match(policyRow, /^tenant-audit-\d+,,TenantSettingsChanged,.*,invitePolicy,"\{""mode"":""manual""\}","\{""mode"":""immediate""\}",admin,ops@learnamp,$/)
    t.notOk(csv.body.includes(issued.token))
  })

  t.test('filters: type, time range; user filters leave tenant entries out; another tenant never sees them', async (t) => {
    const of = async (tenant: string, query: string) => ((await get(tenant, tenant === 'acme' ? issued.token : globex.token.token, query)).json().data as ChangeLogEntry[])
    t.same((await of('acme', '?type=TenantTokensChanged')).map((e) => e.changes[0].field), ['token', 'token'])
    t.same((await of('acme', '?type=UserUpdated')).map((e) => e.userId), ['ada'])
    t.same((await of('acme', '?userId=ada')).map((e) => e.type), ['UserUpdated'], 'userId: only the user')
    t.same((await of('acme', '?field=jobTitle')).map((e) => e.type), ['UserUpdated'], 'a user field: only user entries')
    const all = await of('acme', '?limit=200')
    const from = all[3].at
    const ranged = await of('acme', `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(new Date(Date.parse(all[6].at) + 1).toISOString())}`)
    t.ok(ranged.length >= 4 && ranged.every((e) => e.at >= from && e.userId === null), 'from inclusive, to exclusive')
    t.same((await of('acme', '?axis=recorded&limit=200')).map((e) => e.eventId), all.map((e) => e.eventId), 'the same order on the recorded axis')
    const other = await of('globex', '?limit=200')
    t.same(other.map((e) => e.type), ['UserUpdated', 'TenantCreated'], 'globex sees its own only')
    t.notOk(other.some((e) => e.changes.some((c) => c.after === issued.id || c.before === acme.token.id)))
    t.equal((await get('acme', globex.token.token)).statusCode, 403, "globex's token does not read acme's log")
    t.equal((await get('acme', issued.token, '?type=NoSuchType')).statusCode, 400)
  })

  t.test('paging: every page size gives the full list once, in order, on both axes', async (t) => {
    for (const axis of ['hr', 'recorded'] as const) {
      const full = await allPages(reader, 'acme', { axis }, 200)
      for (const limit of [1, 2, 3]) t.same((await allPages(reader, 'acme', { axis }, limit)).map((e) => e.eventId), full.map((e) => e.eventId), `${axis}, limit ${limit}`)
      t.same((await allPages(reader, 'acme', { axis, type: 'TenantSettingsChanged' }, 1)).length, 3)
    }
    const old = Buffer.from(JSON.stringify({ axis: 'hr', t: new Date(0).toISOString(), p: '0' })).toString('base64url')
    t.equal((await reader.listChanges('acme', { axis: 'hr', limit: 200, cursor: old })).data.length, 7, 'a cursor of the events-only reader (no source) still reads')
    const bad = Buffer.from(JSON.stringify({ axis: 'hr', t: new Date(0).toISOString(), p: '0', s: 7 })).toString('base64url')
    await t.rejects(reader.listChanges('acme', { axis: 'hr', limit: 2, cursor: bad }), { name: 'InvalidCursorError' })
  })

  t.test('an offboarding with erase is in the log with who and what, and leaves no personal data there', async (t) => {
    await admin.offboard('acme', { erase: true, actor: 'ops@learnamp', reason: 'contract ended (TICKET-9)' })
    t.equal((await get('acme', issued.token)).statusCode, 401, 'the tenant’s tokens are refused from now on')
    const entries = await allPages(reader, 'acme', {}, 2)
    t.notOk(entries.some((e) => e.userId !== null), 'the erased employee’s entries are gone')
    t.notOk(JSON.stringify(entries).includes('Ada'), 'no personal data')
    const off = entries.find((e) => e.type === 'TenantOffboarded')
    t.match(off, { cause: { kind: 'admin', actor: 'ops@learnamp', action: 'tenant.offboarded' } })
    t.same(off?.changes, [
      { field: 'erase', before: null, after: true },
      { field: 'reason', before: null, after: 'contract ended (TICKET-9)' },
      { field: 'status', before: 'active', after: 'offboarded' },
    ])
    const erased = entries.find((e) => e.type === 'TenantPersonalDataErased')
    t.same(erased?.changes, [{ field: 'employeesErased', before: null, after: 1 }, { field: 'reason', before: null, after: 'contract ended (TICKET-9)' }])
    t.same((await allPages(reader, 'acme', { type: 'TenantOffboarded' }, 5)).length, 1)
    t.same((await allPages(reader, 'globex', {}, 5)).map((e) => e.type), ['UserUpdated', 'TenantCreated'], 'globex untouched')
  })
})
