// The re-link store on both SQL drivers (PGlite and PostgreSQL): runs asked for idempotently,
// claimed by exactly one of two concurrent claimers, finished or failed, a dead claimer's run
// claimed again once stale, and the id aliases round-tripping per (tenant, integration).
import t from 'tap'
import { forEachSqlDriver } from '../../test/support/sql-drivers.ts'
import { openSqlRelinkStore, STALE_RUN_MS, type IdAlias, type RelinkReport } from './relink-store.ts'

const report: RelinkReport = {
  resources: { employees: { listed: 2, byRemoteId: 1, byWorkEmail: 1, unmatched: 0, existingUnmatched: 0 } },
  employeesRelinked: 2,
  unmatched: { new: [], existing: [] },
}

forEachSqlDriver(t, async (t, db) => {
  let clock = new Date('2026-05-01T10:00:00.000Z')
  const now = () => clock
  const fresh = async () => {
    await db.exec('DROP TABLE IF EXISTS kombo_id_aliases, tenant_relinks')
    return openSqlRelinkStore(db, now)
  }

  t.test('a request is idempotent; of two concurrent claimers exactly one gets the run', async (t) => {
    const store = await fresh()
    const other = await openSqlRelinkStore(db, now) // a second poller process on the same database
    const first = await store.request('acme', 'int-old', 'int-new', 'operator')
    const again = await store.request('acme', 'int-old', 'int-new', 'kombo-webhook')
    t.match(first, { tenant: 'acme', fromIntegrationId: 'int-old', toIntegrationId: 'int-new', state: 'pending', requestedBy: 'operator' })
    t.equal(again.requestedBy, 'operator', 'a pending run is left as it is')
    const [a, b] = await Promise.all([store.claim(), other.claim()])
    t.equal(a.length + b.length, 1, 'one claimer wins')
    t.match([...a, ...b][0], { tenant: 'acme', toIntegrationId: 'int-new', state: 'running', startedAt: clock.toISOString() })
    t.same(await store.claim(), [], 'a running run that is not stale is nobody else’s to claim')
  })

  t.test('finish records the report; fail can be asked for again', async (t) => {
    const store = await fresh()
    await store.request('acme', 'int-old', 'int-new', 'operator')
    await store.request('globex', null, 'int-g', 'operator')
    const claimed = await store.claim()
    t.same(claimed.map((r) => r.tenant).sort(), ['acme', 'globex'])
    clock = new Date(clock.getTime() + 1000)
    await store.finish('acme', 'int-new', report)
    await store.fail('globex', 'int-g', 'Kombo answered 500')
    t.match(await store.run('acme', 'int-new'), { state: 'done', finishedAt: clock.toISOString(), report, error: null })
    t.match(await store.run('globex', 'int-g'), { state: 'failed', error: 'Kombo answered 500' })
    t.equal((await store.request('acme', 'int-old', 'int-new', 'again')).state, 'done', 'a finished run is not asked for again')
    const retried = await store.request('globex', null, 'int-g', 'operator-2')
    t.match(retried, { state: 'pending', requestedBy: 'operator-2', error: null })
    t.same((await store.claim()).map((r) => r.tenant), ['globex'])
    t.same((await store.runsOf('acme')).map((r) => r.toIntegrationId), ['int-new'])
    t.equal(await store.run('acme', 'int-none'), null)
  })

  t.test('a run claimed by a poller that died is claimed again once stale', async (t) => {
    const store = await fresh()
    await store.request('acme', 'int-old', 'int-new', 'operator')
    t.equal((await store.claim()).length, 1)
    clock = new Date(clock.getTime() + STALE_RUN_MS - 1000)
    t.same(await store.claim(), [], 'not yet stale')
    clock = new Date(clock.getTime() + 2000)
    const reclaimed = await store.claim()
    t.equal(reclaimed.length, 1)
    t.equal(reclaimed[0].startedAt, clock.toISOString(), 'started again now')
  })

  t.test('aliases round-trip per tenant and integration; a repeated run upserts', async (t) => {
    const store = await fresh()
    const aliases: IdAlias[] = [
      { resource: 'employees', komboId: 'new-1', entityId: 'old-1', matchedBy: 'remote_id' },
      { resource: 'employees', komboId: 'new-2', entityId: 'old-2', matchedBy: 'work_email' },
      { resource: 'groups', komboId: 'g-new', entityId: 'g-old', matchedBy: 'remote_id' },
    ]
    await store.putAliases('acme', 'int-new', aliases)
    await store.putAliases('acme', 'int-new', [{ resource: 'employees', komboId: 'new-2', entityId: 'old-2b', matchedBy: 'remote_id' }])
    await store.putAliases('globex', 'int-new', [{ resource: 'employees', komboId: 'new-1', entityId: 'globex-1', matchedBy: 'remote_id' }])
    const map = await store.aliasesOf('acme', 'int-new')
    t.same(Object.fromEntries([...map].map(([r, m]) => [r, Object.fromEntries(m)])), {
      employees: { 'new-1': 'old-1', 'new-2': 'old-2b' },
      groups: { 'g-new': 'g-old' },
    })
    t.equal(map.get('employees')?.get('new-1'), 'old-1', 'another tenant’s alias for the same Kombo id does not leak in')
    t.equal((await store.aliasesOf('acme', 'int-old')).size, 0, 'an integration that was never a re-link has none')
    const many = Array.from({ length: 6001 }, (_, i): IdAlias => ({ resource: 'employees', komboId: `n${i}`, entityId: `o${i}`, matchedBy: 'remote_id' }))
    await store.putAliases('big', 'int-x', many) // more than one statement's worth
    t.equal((await store.aliasesOf('big', 'int-x')).get('employees')?.size, 6001)
  })
})
