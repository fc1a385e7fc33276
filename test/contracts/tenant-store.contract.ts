// The behaviour every TenantStore adapter must have. Each adapter's test file runs it.
import type { Test } from 'tap'
import { createHash } from 'node:crypto'
import { IntegrationAlreadyBoundError, TenantExistsError, TenantNotFoundError, TokenInUseError, type TenantStore } from '../../tenants/port.ts'
import { TenantSettings } from '../../schemas/tenant.ts'

const hash = (token: string) => createHash('sha256').update(token).digest('hex')
const settings = (over: Partial<TenantSettings> = {}) => TenantSettings.parse(over)
const who = { actor: 'ops@example.com', action: 'test' }

export function runTenantStoreContract(t: Test, open: () => Promise<TenantStore>): void {
  const withStore = (name: string, fn: (t: Test, store: TenantStore) => Promise<void>) =>
    t.test(name, async (t) => fn(t, await open()))

  withStore('a created tenant is read back with its settings and defaults', async (t, store) => {
    const v0 = await store.version()
    const created = await store.create(
      { id: 'acme', integrationId: 'int-acme', settings: settings({ invitePolicy: { mode: 'immediate' }, timeZone: 'Europe/Berlin' }), tokens: [{ id: 'tok-1', sha256: hash('a'), source: 'api' }] },
      who,
    )
    t.equal(created.status, 'active')
    t.equal(created.failingReason, null)
    t.same(created.settings.invitePolicy, { mode: 'immediate' })
    t.equal(created.settings.timeZone, 'Europe/Berlin')
    t.equal(created.settings.pollIntervalMs, null, 'default: the deployment interval')
    t.same(created.settings.massDeactivation, { enabled: true, percent: 10, minUsers: 10 })
    t.same(await store.get('acme'), created)
    t.same((await store.byIntegration('int-acme'))?.id, 'acme')
    t.equal(await store.byIntegration('int-other'), null)
    t.equal(await store.get('globex'), null)
    t.ok((await store.version()) > v0, 'a write moves the version')
  })

  withStore('two creates of one tenant at the same moment (roles apart seeding): one wins, the other is told it exists', async (t, store) => {
    // On PostgreSQL the two transactions run on two connections of the pool: neither sees the
    // other's uncommitted row in its check, so the insert itself must answer "exists".
    for (let round = 0; round < 5; round++) {
      const id = `race-${round}`
      const create = (n: number) => store.create({ id, integrationId: `int-${id}`, settings: settings(), tokens: [{ id: `k${n}`, sha256: hash(`${id}-${n}`), source: 'file' }] }, who)
      const outcomes = await Promise.allSettled([create(1), create(2)])
      const won = outcomes.filter((o) => o.status === 'fulfilled')
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      t.equal(won.length, 1, `round ${round}: exactly one create wins`)
      t.ok(lost.length === 1 && lost[0].reason instanceof TenantExistsError, `round ${round}: the other gets TenantExistsError (got ${lost.map((l) => String(l.reason)).join(', ')})`)
    }
  })

  withStore('ids and integrations are unique; tokens too', async (t, store) => {
    await store.create({ id: 'acme', integrationId: 'int-1', settings: settings(), tokens: [{ id: 'k', sha256: hash('x'), source: 'api' }] }, who)
    await t.rejects(store.create({ id: 'acme', integrationId: 'int-2', settings: settings(), tokens: [] }, who), TenantExistsError)
    const bound = await t.rejects(store.create({ id: 'globex', integrationId: 'int-1', settings: settings(), tokens: [] }, who), IntegrationAlreadyBoundError)
    void bound
    await t.rejects(store.create({ id: 'initech', integrationId: 'int-3', settings: settings(), tokens: [{ id: 'k', sha256: hash('x'), source: 'api' }] }, who), TokenInUseError)
    t.equal(await store.get('initech'), null, 'a refused create leaves nothing behind')
    t.same((await store.list()).map((x) => x.id), ['acme'])
    await store.create({ id: 'globex', integrationId: null, settings: settings(), tokens: [] }, who)
    await t.rejects(store.update('globex', { integrationId: 'int-1' }, who), IntegrationAlreadyBoundError)
    await store.update('globex', { integrationId: 'int-2' }, who)
    t.equal((await store.byIntegration('int-2'))?.id, 'globex')
  })

  withStore('updates change what they name, keep the rest, and are audited in order', async (t, store) => {
    await store.create({ id: 'acme', integrationId: 'int-1', settings: settings(), tokens: [] }, { actor: 'a', action: 'tenant.created' })
    const before = await store.version()
    const paused = await store.update('acme', { status: 'paused', failingReason: 'Kombo says INVALID' }, { actor: 'b', action: 'tenant.paused', details: { why: 'x' } })
    t.equal(paused.status, 'paused')
    t.equal(paused.failingReason, 'Kombo says INVALID')
    t.equal(paused.integrationId, 'int-1')
    const s = { ...paused.settings, invitePolicy: { mode: 'on_start_date' as const, daysBefore: 3 } }
    const changed = await store.update('acme', { settings: s, failingReason: null }, { actor: 'c', action: 'tenant.invite-policy-changed' })
    t.same(changed.settings.invitePolicy, { mode: 'on_start_date', daysBefore: 3 })
    t.equal(changed.status, 'paused', 'status kept')
    t.equal(changed.failingReason, null)
    t.ok((await store.version()) > before)
    const trail = await store.auditTrail('acme')
    t.same(trail.map((r) => [r.actor, r.action]), [['a', 'tenant.created'], ['b', 'tenant.paused'], ['c', 'tenant.invite-policy-changed']])
    t.same(
      trail[1].details,
      {
        why: 'x',
        stateChanges: [
          { field: 'status', before: 'active', after: 'paused' },
          { field: 'failingReason', before: null, after: 'Kombo says INVALID' },
        ],
      },
      'the store adds what it changed, before → after',
    )
    t.same(trail[2].details.stateChanges, [{ field: 'failingReason', before: 'Kombo says INVALID', after: null }], 'only the state fields that changed (status kept)')
    t.ok(trail.every((r) => !Number.isNaN(Date.parse(r.at))))
    await t.rejects(store.update('nobody', { status: 'paused' }, who), TenantNotFoundError)
    t.same(await store.auditTrail('nobody'), [])
  })

  withStore('tokens: issued, listed without hashes, revoked; offboarding removes them all', async (t, store) => {
    await store.create({ id: 'acme', integrationId: 'int-1', settings: settings(), tokens: [{ id: 'file-1', sha256: hash('f').toUpperCase(), source: 'file' }] }, who)
    await store.create({ id: 'globex', integrationId: 'int-2', settings: settings(), tokens: [{ id: 'g', sha256: hash('g'), source: 'api' }] }, who)
    await store.addToken('acme', { id: 'tok-2', sha256: hash('second'), source: 'api' }, who)
    t.same((await store.tokens()).filter((k) => k.tenant === 'acme').map((k) => [k.id, k.sha256]), [['file-1', hash('f')], ['tok-2', hash('second')]], 'hashes lower-cased')
    const listed = await store.tokensOf('acme')
    t.same(listed.map((k) => k.id), ['file-1', 'tok-2'])
    t.notOk(JSON.stringify(listed).includes(hash('second')), 'the operator listing has no hashes')
    t.equal(await store.revokeToken('acme', 'tok-2', who), true)
    t.equal(await store.revokeToken('acme', 'tok-2', who), false, 'already revoked')
    t.equal(await store.revokeToken('acme', 'g', who), false, "another tenant's token id is not found")
    await store.replaceFileTokens('acme', [hash('f'), hash('f2')], who)
    t.same((await store.tokensOf('acme')).map((k) => k.source), ['file', 'file'])
    await store.addToken('acme', { id: 'tok-3', sha256: hash('third'), source: 'api' }, who)
    await store.replaceFileTokens('acme', [hash('f2')], who)
    t.same((await store.tokens()).filter((k) => k.tenant === 'acme').map((k) => k.sha256).sort(), [hash('f2'), hash('third')].sort(), 'api tokens kept')
    const off = await store.offboard('acme', { actor: 'ops', action: 'tenant.offboarded' })
    t.equal(off.status, 'offboarded')
    t.same(await store.tokensOf('acme'), [])
    t.same((await store.tokens()).map((k) => k.tenant), ['globex'])
    t.equal(await store.byIntegration('int-1'), null, 'an offboarded tenant releases its integration')
    await store.create({ id: 'acme-2', integrationId: 'int-1', settings: settings(), tokens: [] }, who)
    await t.rejects(store.addToken('acme', { id: 'tok-4', sha256: hash('late'), source: 'api' }, who), TenantNotFoundError)
    t.equal((await store.get('acme'))?.status, 'offboarded', 'kept for the audit trail')
  })

  withStore('rejects a token hash that is no sha256', async (t, store) => {
    await t.rejects(store.create({ id: 'acme', integrationId: 'i', settings: settings(), tokens: [{ id: 'x', sha256: 'plain-token', source: 'api' }] }, who))
  })
}
