// The mass-deactivation guard through the processor, the projector's views and the clock: a mass
// deletion held, then released or discarded; below the threshold as before; guard off; a per-tenant
// threshold; a crash between the hold and its users' events.
import t, { type Test } from 'tap'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openSqlEventStore } from '../eventstore/sql.ts'
import { openSqlDeadLetterStore } from '../../producers/changelog/sql-dead-letters.ts'
import { openSqlViewStore } from '../../projections/viewstore/sql.ts'
import { tenantViewCounts } from '../../projections/viewstore/tenant-employees.ts'
import { Projector, VIEWS_CHECKPOINT } from '../../projections/projector.ts'
import { waitFor } from '../../test/support/wait-for.ts'
import { processChanges } from '../process-changes.ts'
import { runClockTick } from '../clock.ts'
import { openSqlHoldStore, type HoldStore } from './hold-store.ts'
import { decideHold, HoldAlreadyDecidedError, HoldNotFoundError } from './hold-commands.ts'
import { TenantSettings, type MassDeactivationThreshold } from '../../schemas/tenant.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import type { ConsumedChange } from '../../producers/changelog/port.ts'
import type { EventStore } from '../eventstore/port.ts'
import { exceedsThreshold } from './guard.ts'

const EMPLOYEES = 40
let clock = new Date('2026-03-01T12:00:00.000Z')
const now = () => clock

const record = (i: number, changedAt: string, fields: Record<string, unknown> = {}) => ({
  id: `emp-${i}`,
  first_name: `First${i}`,
  last_name: 'Example',
  work_email: `e${i}@example.test`,
  start_date: '2020-01-01T00:00:00.000Z',
  employment_status: 'ACTIVE',
  changed_at: changedAt,
  remote_deleted_at: null,
  ...fields,
})
let offset = 0
const change = (tenant: string, value: Record<string, unknown>): ConsumedChange => {
  const envelope = { tenant, integrationId: 'acme-int', resource: 'employees', fetchedAt: clock.toISOString(), pollId: 'poll', record: value }
  return { resource: 'employees', key: `${tenant}:${value.id}`, partition: 0, offset: String(offset++), value: envelope, raw: Buffer.from(JSON.stringify(envelope)) }
}

// One database for the file (opening PGlite is slow on a loaded machine); each test its own tenant.
const shared = (async () => {
  const db = await openPgliteDatabase()
  const store = await openSqlEventStore(db, { pollIntervalMs: 10 })
  const deadLetters = await openSqlDeadLetterStore(db)
  const views = await openSqlViewStore(db)
  const holds = await openSqlHoldStore(db)
  const projector = new Projector({ store, views })
  await projector.start()
  t.teardown(async () => {
    await projector.stop()
    await db.close()
  })
  return { db, store, deadLetters, views, holds }
})()
t.test('the database opens', { timeout: 300_000 }, async (t) => {
  t.ok(await shared)
})

const settingsByTenant = new Map<string, TenantSettings>()
const tenantSettingsOf = (tenant: string) => settingsByTenant.get(tenant)
let tenants = 0

async function setup(t: Test, threshold: Partial<MassDeactivationThreshold> = {}) {
  const { db, store, deadLetters, views, holds } = await shared
  const tenant = `acme-${++tenants}`
  settingsByTenant.set(tenant, TenantSettings.parse({ massDeactivation: threshold }))
  // The views have every event the store has.
  const caughtUp = async () => {
    const all = await store.readAll({ maxCount: 1_000_000 })
    const last = all.length ? all[all.length - 1].position : null
    await waitFor('the views to catch up', async () => last === null || ((await views.checkpoint(VIEWS_CHECKPOINT)) ?? -1n) >= last, 60_000)
  }
  let settled = true
  const guard = { holds, activeUsers: async (tenant: string) => (await tenantViewCounts(db, tenant)).users.active ?? 0, roundSettled: async () => settled }
  const env = {
    tenant,
    store,
    views,
    holds,
    setSettled: (v: boolean) => (settled = v),
    process: async (records: Array<Record<string, unknown>>) => {
      await processChanges(records.map((r) => change(tenant, r)), { store, deadLetters, now, tenantSettingsOf, massDeactivationGuard: true })
      await caughtUp()
    },
    // The clock looks at every tenant; this test's rounds are those of its tenant.
    tick: async (deps: { store?: EventStore } = {}) => {
      const result = await runClockTick({ store: deps.store ?? store, views, tenantSettingsOf, now, massDeactivation: guard })
      await caughtUp()
      return { ...result, rounds: result.rounds.filter((r) => r.tenant === tenant) }
    },
    decide: async (id: string, action: 'release' | 'discard', actor = 'ops@example.test') => {
      const hold = await decideHold({ store, holds, views, tenantSettingsOf, now }, tenant, id, action, actor)
      await caughtUp()
      return hold
    },
    counts: async () => Object.fromEntries(Object.entries((await tenantViewCounts(db, tenant)).users).filter(([, n]) => n > 0)),
    types: async (i: number) => (await store.readStream(employeeStreamName(tenant, `emp-${i}`))).map((e) => e.type),
    later: (ms: number) => (clock = new Date(clock.getTime() + ms)),
  }
  await env.process(Array.from({ length: EMPLOYEES }, (_, i) => record(i, '2026-03-01T10:00:00.000Z')))
  t.same(await env.counts(), { active: EMPLOYEES }, `${EMPLOYEES} active users to start with`)
  return env
}

const deleted = (i: number) => record(i, '2026-03-01T11:00:00.000Z', { remote_deleted_at: '2026-03-01T11:00:00.000Z' })
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

t.test('the threshold needs both bounds: more than the percent and at least the users', async (t) => {
  const d = { enabled: true, percent: 10, minUsers: 10 }
  t.notOk(exceedsThreshold(9, 40, d), '9 of 40: under 10 users')
  t.ok(exceedsThreshold(10, 40, d), '10 of 40: 25 % and 10 users')
  t.notOk(exceedsThreshold(10, 100, d), '10 of 100: exactly 10 %, not more')
  t.ok(exceedsThreshold(11, 100, d))
  t.notOk(exceedsThreshold(40, 40, { ...d, enabled: false }), 'off')
})

t.test('a mass deletion is held (facts recorded, users active), then released', async (t) => {
  const env = await setup(t)
  await env.process(range(12).map(deleted))
  t.same(await env.counts(), { active: EMPLOYEES }, 'deferred: every user still active in the views')
  t.same((await env.types(0)).slice(-2), ['UserDeactivationDeferred', 'EmployeeDeletedInSource'], 'the HR fact is in the stream, after the deferral')
  env.later(60_000)
  const tick = await env.tick()
  t.same(tick.rounds.map((r) => r.kind), ['held'])
  const [hold] = await env.holds.list(env.tenant)
  t.same([hold.status, hold.users.length], ['open', 12], 'one open hold of the 12 users')
  t.match(hold.reason, /12 of 40 active users/)
  t.same(await env.counts(), { active: EMPLOYEES }, 'held: nobody deactivated')
  t.notOk((await env.types(3)).includes('UserDeactivated'))
  t.same((await env.tick()).rounds, [], 'a later tick leaves the hold alone')

  const released = await env.decide(hold.id, 'release')
  t.same([released.status, released.decidedBy], ['released', 'ops@example.test'])
  t.same(await env.counts(), { active: EMPLOYEES - 12, deactivated: 12 }, 'released: the 12 are deactivated')
  const [last] = await env.store.readStream(employeeStreamName(env.tenant, 'emp-5'), { direction: 'backwards', maxCount: 1 })
  t.same([last.type, (last.metadata as any).cause], ['UserDeactivated', { kind: 'hold-release', actor: 'ops@example.test' }], 'audited: cause hold-release with the actor')
  const before = (await env.types(5)).length
  await env.decide(hold.id, 'release')
  t.equal((await env.types(5)).length, before, 'releasing again appends nothing')
  await t.rejects(env.decide(hold.id, 'discard'), HoldAlreadyDecidedError, 'a released hold cannot be discarded')
  await t.rejects(env.decide('hold-nope', 'release'), HoldNotFoundError)
})

t.test('a held round discarded: the users stay active until their next change from the HR system', async (t) => {
  const env = await setup(t)
  await env.process(range(15).map(deleted))
  env.later(60_000)
  await env.tick()
  const [hold] = await env.holds.list(env.tenant, 'open')
  const discarded = await env.decide(hold.id, 'discard', 'lead@example.test')
  t.same([discarded.status, discarded.decidedBy], ['discarded', 'lead@example.test'])
  t.same(await env.counts(), { active: EMPLOYEES }, 'nobody deactivated')
  env.later(60_000)
  t.same((await env.tick()).rounds, [], 'nothing due: the discard stands')
  t.same(await env.counts(), { active: EMPLOYEES })
  // A real change of one of them (still deleted): decided again, one user is below the threshold.
  await env.process([record(2, '2026-03-01T13:00:00.000Z', { remote_deleted_at: '2026-03-01T11:00:00.000Z', job_title: 'Gone' })])
  env.later(60_000)
  t.same((await env.tick()).rounds.map((r) => r.kind), ['applied'])
  t.same(await env.counts(), { active: EMPLOYEES - 1, deactivated: 1 }, 'after their next change the one user is deactivated')
})

t.test('below the threshold deactivations flow (at the next tick), no hold', async (t) => {
  const env = await setup(t)
  await env.process(range(4).map(deleted))
  env.later(60_000)
  t.same((await env.tick()).rounds, [{ tenant: env.tenant, kind: 'applied', users: 4 }])
  t.same(await env.counts(), { active: EMPLOYEES - 4, deactivated: 4 })
  t.same(await env.holds.list(env.tenant), [])
})

t.test('guard off: every deactivation is appended at once by the processor', async (t) => {
  const env = await setup(t, { enabled: false })
  await env.process(range(30).map(deleted))
  t.same(await env.counts(), { active: EMPLOYEES - 30, deactivated: 30 })
  t.ok((await env.types(0)).includes('UserDeactivated'))
  t.notOk((await env.types(0)).includes('UserDeactivationDeferred'))
})

t.test("a tenant's own threshold: 50 % and 5 users lets 12 of 40 through, holds 21", async (t) => {
  const env = await setup(t, { percent: 50, minUsers: 5 })
  await env.process(range(12).map(deleted))
  env.later(60_000)
  t.same((await env.tick()).rounds.map((r) => r.kind), ['applied'])
  await env.process(range(21).map((i) => deleted(i + 12)))
  env.later(60_000)
  t.same((await env.tick()).rounds.map((r) => r.kind), ['held'])
  t.same(await env.counts(), { active: EMPLOYEES - 12, deactivated: 12 })
})

t.test('the guard waits while the round is incomplete, then decides the whole round', async (t) => {
  const env = await setup(t)
  await env.process(range(3).map(deleted))
  env.setSettled(false)
  env.later(1000)
  t.same((await env.tick()).rounds.map((r) => r.kind), ['waiting'], 'round not complete: nothing decided')
  await env.process(range(12).map((i) => deleted(i + 3)))
  env.later(1000)
  t.same((await env.tick()).rounds.map((r) => r.kind), ['waiting'])
  env.setSettled(true)
  env.later(1000)
  const [round] = (await env.tick()).rounds
  t.same([round.kind, round.kind === 'held' && round.users], ['held', 15], 'the whole round (both batches) is held: nothing of it deactivated')
  t.same(await env.counts(), { active: EMPLOYEES })
})

t.test('a crash between the hold and its users keeps the hold: the next tick puts them back into it', async (t) => {
  const env = await setup(t)
  await env.process(range(12).map(deleted))
  env.later(60_000)
  let appends = 0
  const crashing: EventStore = {
    ...env.store,
    appendToStream: async (...args) => {
      if (++appends > 3) throw new Error('process killed')
      return env.store.appendToStream(...args)
    },
  }
  await t.rejects(env.tick({ store: crashing }), /process killed/)
  const open = await env.holds.list(env.tenant, 'open')
  t.equal(open.length, 1, 'the hold row was written first')
  // Restarted: a new tick with the store working again (and a smaller set of deferred users left).
  env.later(60_000)
  await env.tick()
  t.same((await env.holds.list(env.tenant)).map((h) => [h.id, h.status]), [[open[0].id, 'open']], 'still the one hold, still open')
  t.same(await env.counts(), { active: EMPLOYEES }, 'nobody of the held round was deactivated')
  for (const i of range(12)) t.ok((await env.types(i)).includes('UserDeactivationHeld'), `emp-${i} held`)
  await env.decide(open[0].id, 'release')
  t.same(await env.counts(), { active: EMPLOYEES - 12, deactivated: 12 })
})

t.test('holds of one tenant are not found under another', async (t) => {
  const env = await setup(t)
  await env.process(range(12).map(deleted))
  env.later(60_000)
  await env.tick()
  const [hold] = await env.holds.list(env.tenant)
  t.equal(await env.holds.get('globex', hold.id), null)
  t.same(await env.holds.list('globex'), [])
  const holds: HoldStore = env.holds
  t.equal((await holds.openCounts()).get(env.tenant), 1)
  t.equal((await holds.openCounts()).get('globex'), undefined)
})
