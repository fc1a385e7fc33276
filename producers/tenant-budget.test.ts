// The per-tenant backlog budget against a fake change log whose per-tenant pending count the test sets.
import t from 'tap'
import { ALONE_FACTOR, tenantBudget, type TenantBudgetOptions } from './tenant-budget.ts'
import { waitFor } from '../test/support/wait-for.ts'

function fakeLog() {
  const pending = new Map<string, number>()
  const asked: Array<{ group: string; tenant: string }> = []
  return {
    pending,
    asked,
    async tenantPending(group: string, tenant: string) {
      asked.push({ group, tenant })
      return pending.get(tenant) ?? 0
    },
  }
}

function setup(options: Partial<TenantBudgetOptions> = {}) {
  const log = fakeLog()
  const waits: Array<{ tenant: string; pending: number }> = []
  const waited: Array<{ tenant: string; aborted: boolean }> = []
  const budget = tenantBudget({
    changeLog: log,
    group: 'processors',
    limit: 1000,
    checkMs: 1,
    onWait: (tenant, pending) => waits.push({ tenant, pending }),
    onWaited: (tenant, _ms, aborted) => waited.push({ tenant, aborted }),
    ...options,
  })
  const published: Array<{ tenant: string; items: number[] }> = []
  const publisher = (tenant: string, signal?: AbortSignal) =>
    budget.publishing<number>(tenant, signal, async (items) => {
      published.push({ tenant, items })
    })
  return { log, budget, waits, waited, published, publisher }
}

t.test('below the limit a page is published at once, after one question about the group', async (t) => {
  const { log, waits, published, publisher } = setup()
  log.pending.set('small', 999)
  await publisher('small')([1, 2])
  t.same(published, [{ tenant: 'small', items: [1, 2] }])
  t.same(log.asked, [{ group: 'processors', tenant: 'small' }])
  t.same(waits, [], 'no wait')
})

t.test('at the limit the page waits until the tenant’s pending count drops below it', async (t) => {
  const { log, waits, waited, published, publisher } = setup()
  log.pending.set('big', 1000)
  let done = false
  const publishing = publisher('big')([1]).then(() => (done = true))
  await waitFor('the budget to ask again a few times', () => log.asked.length >= 5, 10_000)
  t.equal(done, false, 'still waiting while 1000 are pending')
  t.same(published, [], 'nothing published while waiting')
  t.same(waits, [{ tenant: 'big', pending: 1000 }], 'the wait was reported once')
  log.pending.set('big', 999)
  await publishing
  t.same(published, [{ tenant: 'big', items: [1] }], 'published once the backlog dropped')
  t.same(waited, [{ tenant: 'big', aborted: false }])
})

t.test("one tenant at its limit does not hold another tenant's page", async (t) => {
  const { log, published, publisher } = setup()
  log.pending.set('big', 5000)
  const controller = new AbortController()
  const bigPage = publisher('big', controller.signal)([1]).catch(() => 'aborted')
  await publisher('small')([2])
  t.same(published, [{ tenant: 'small', items: [2] }], "the small tenant's page went through")
  controller.abort()
  t.equal(await bigPage, 'aborted')
})

t.test('below the limit pages are counted, not asked about: the next question comes when they could reach it', async (t) => {
  const { log, published, publisher } = setup()
  log.pending.set('big', 100)
  const publish = publisher('big')
  await publish(new Array(400).fill(0))
  t.equal(log.asked.length, 1, 'asked before the first page (100 pending)')
  await publish(new Array(400).fill(0))
  await publish(new Array(100).fill(0))
  t.equal(log.asked.length, 1, 'at most 100 + 800 pending now, below 1000: not asked')
  log.pending.set('big', 300)
  await publish(new Array(100).fill(0))
  t.equal(log.asked.length, 2, 'the bound reached 1000, so the change log was asked again (300 pending)')
  await publish(new Array(600).fill(0))
  t.equal(log.asked.length, 2, '300 + 100 published since: room for this page without asking')
  log.pending.set('big', 1000)
  const controller = new AbortController()
  let fifth = false
  const waiting = publisher('big', controller.signal)([1]).then(() => (fifth = true))
  await waitFor('the budget to ask again', () => log.asked.length >= 4, 10_000)
  t.equal(fifth, false, 'the bound (1000) and the answer (1000) are at the limit: the page waits')
  log.pending.set('big', 0)
  await waiting
  t.equal(published.length, 6)
})

t.test('stopping the poller aborts the wait without publishing', async (t) => {
  const { log, waited, published, publisher } = setup()
  log.pending.set('big', 1000)
  const controller = new AbortController()
  const publishing = publisher('big', controller.signal)([1])
  await waitFor('the wait to begin', () => log.asked.length >= 2, 10_000)
  const reason = new Error('poller stopped')
  controller.abort(reason)
  await t.rejects(publishing, reason, 'rejects with the stop reason')
  t.same(published, [], 'the page was not published')
  t.same(waited, [{ tenant: 'big', aborted: true }])
  await t.rejects(publisher('big', controller.signal)([2]), reason, 'an already-stopped poller does not publish either')
  t.same(published, [])
})

t.test('limit 0 turns the budget off: nothing is asked, every page is published', async (t) => {
  const { log, published, publisher } = setup({ limit: 0 })
  log.pending.set('big', 1_000_000)
  await publisher('big')([1])
  t.same(published, [{ tenant: 'big', items: [1] }])
  t.same(log.asked, [], 'the change log was not asked')
})

t.test('an empty page is passed through without asking', async (t) => {
  const { log, published, publisher } = setup()
  log.pending.set('big', 1000)
  await publisher('big')([])
  t.same(published, [{ tenant: 'big', items: [] }])
  t.same(log.asked, [])
})

t.test('a failing question fails the publish (the poll keeps its watermark and retries)', async (t) => {
  const budget = tenantBudget({ changeLog: { tenantPending: async () => Promise.reject(new Error('log down')) }, group: 'g', limit: 10, checkMs: 1 })
  let published = false
  await t.rejects(budget.publishing<number>('a', undefined, async () => void (published = true))([1]), /log down/)
  t.equal(published, false)
})

t.test('options are checked', async (t) => {
  const log = fakeLog()
  t.throws(() => tenantBudget({ changeLog: log, group: 'g', limit: -1, checkMs: 10 }), RangeError)
  t.throws(() => tenantBudget({ changeLog: log, group: 'g', limit: 10, checkMs: 0 }), RangeError)
})

/** The budget with the projector's backlog counted too: the test sets each tenant's unprojected events. */
function setupWithProjector(limit = 1000) {
  const unprojected = new Map<string, number>()
  const asked: Array<{ tenant: string; upTo: number }> = []
  const s = setup({
    limit,
    unprojected: async (tenant, upTo) => {
      asked.push({ tenant, upTo })
      return Math.min(upTo, unprojected.get(tenant) ?? 0)
    },
  })
  return { ...s, unprojected, projectorAsked: asked }
}

t.test("the tenant's events the projector has not applied count too: a page waits while they fill the budget", async (t) => {
  const { log, unprojected, projectorAsked, waits, published, publisher } = setupWithProjector()
  log.pending.set('big', 0)
  unprojected.set('big', 4000)
  let done = false
  const publishing = publisher('big')([1]).then(() => (done = true))
  await waitFor('the budget to ask again a few times', () => projectorAsked.length >= 5, 10_000)
  t.equal(done, false, 'nothing pending in the processors, but 4000 events wait for the projector: the page waits')
  t.same(published, [])
  t.same(waits, [{ tenant: 'big', pending: 1000 }], 'counted up to the room left (1000 - 0)')
  unprojected.set('big', 500)
  log.pending.set('big', 499)
  await publishing
  t.same(published, [{ tenant: 'big', items: [1] }], 'published once records + events dropped below the limit (999)')
})

t.test('the projector is asked only for the room the processors left, and not at all when they fill it', async (t) => {
  const { log, unprojected, projectorAsked, publisher } = setupWithProjector()
  log.pending.set('small', 300)
  unprojected.set('small', 2)
  await publisher('small')([1])
  t.same(projectorAsked, [{ tenant: 'small', upTo: 700 }], 'upTo = limit - pending')
  log.pending.set('big', 1000)
  const controller = new AbortController()
  const waiting = publisher('big', controller.signal)([1]).catch(() => 'aborted')
  await waitFor('the budget to ask the change log again', () => log.asked.filter((a) => a.tenant === 'big').length >= 3, 10_000)
  t.notOk(projectorAsked.some((a) => a.tenant === 'big'), 'pending alone is at the limit: the event store is not asked')
  controller.abort()
  t.equal(await waiting, 'aborted')
})

t.test("below the limit, records + events are counted, not asked about, as records alone were", async (t) => {
  const { log, unprojected, projectorAsked, publisher } = setupWithProjector()
  log.pending.set('big', 100)
  unprojected.set('big', 200)
  const publish = publisher('big')
  await publish(new Array(400).fill(0))
  await publish(new Array(300).fill(0))
  t.equal(projectorAsked.length, 1, '100 + 200 + 700 published since the question: asked once')
  unprojected.set('big', 0)
  log.pending.set('big', 0)
  await publish([1])
  t.equal(projectorAsked.length, 2, 'the bound reached 1000: asked again (and room found)')
})

t.test('a tenant polled alone runs ALONE_FACTOR × the limit ahead; once another tenant is polled the limit holds again', async (t) => {
  let alone = true
  const { log, waits, published, publisher } = setup({ alone: () => alone })
  t.ok(ALONE_FACTOR > 1)
  log.pending.set('big', 1000 * ALONE_FACTOR - 1)
  await publisher('big')([1])
  t.same(published, [{ tenant: 'big', items: [1] }], 'alone, a backlog just under ALONE_FACTOR × the limit does not hold the page')
  t.same(waits, [], 'no wait')
  log.pending.set('big', 1000 * ALONE_FACTOR)
  let done = false
  const held = publisher('big')([2]).then(() => (done = true))
  await waitFor('the budget to ask again at the larger limit', () => log.asked.length >= 4, 10_000)
  t.equal(done, false, 'alone, the larger limit holds too')
  alone = false // another tenant was added while the page waited
  log.pending.set('big', 1500)
  const asked = log.asked.length
  await waitFor('the budget to ask again with the plain limit', () => log.asked.length >= asked + 3, 10_000)
  t.equal(done, false, 'with another tenant polled, 1,500 pending is over the plain limit: still waiting')
  log.pending.set('big', 999)
  await held
  t.same(published.at(-1), { tenant: 'big', items: [2] }, 'published once below the plain limit')
})

t.test('the larger limit is asked for per tenant: a tenant whose initial sync is over keeps the plain limit', async (t) => {
  const asked: string[] = []
  const { log, waits, published, publisher } = setup({ alone: (tenant) => (asked.push(tenant), tenant === 'syncing') })
  log.pending.set('syncing', 1000 * ALONE_FACTOR - 1)
  log.pending.set('synced', 1000)
  await publisher('syncing')([1])
  t.same(published, [{ tenant: 'syncing', items: [1] }], 'the tenant in its initial sync runs ALONE_FACTOR × the limit ahead')
  let done = false
  const held = publisher('synced')([2]).then(() => (done = true))
  await waitFor('the budget to ask for the synced tenant', () => log.asked.filter((a) => a.tenant === 'synced').length >= 2, 10_000)
  t.equal(done, false, 'the synced tenant waits at the plain limit')
  t.ok(asked.includes('syncing') && asked.includes('synced'), 'the predicate was asked with each tenant')
  log.pending.set('synced', 999)
  await held
  t.same(published.at(-1), { tenant: 'synced', items: [2] })
  t.ok(waits.length >= 1)
})
