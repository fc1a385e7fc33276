// TenantPoller against the Kombo simulator: rounds over all six resources, status in the sync
// state, a tenant whose credentials are rejected stops while another keeps syncing, transient
// outages are retried next round, and stop() is graceful.
import t from 'tap'
import { startKomboSimulator } from '../simulator/index.ts'
import { komboResources } from '../schemas/kombo.ts'
import type { ChangeEnvelope } from '../schemas/envelope.ts'
import { KomboClient } from './kombo/client.ts'
import { KomboAuthError, KomboUnavailableError } from './kombo/errors.ts'
import { InMemorySyncStateStore } from './sync-state/memory.ts'
import { nextRoundDelay, ROUND_ORDER, TenantPoller, TenantPollingStoppedError, type TenantPollerOptions } from './tenant-poller.ts'

const sim = await startKomboSimulator({ employees: 15, seed: 5 })
t.teardown(() => sim.close())
t.afterEach(() => sim.clearFaults())

const API_KEY = 'kombo-secret-key-for-poller-tests'
const client = new KomboClient({ baseUrl: sim.url, apiKey: API_KEY, sleep: async () => {}, retry: { maxAttempts: 2 } })

function newPoller(tenant: string, integrationId: string, overrides: Partial<TenantPollerOptions> = {}) {
  const syncState = new InMemorySyncStateStore()
  const published: ChangeEnvelope[] = []
  const logs: Array<{ level: string; obj: object; msg: string }> = []
  const log = (level: string) => (obj: object, msg: string) => logs.push({ level, obj, msg })
  const poller = new TenantPoller({
    client,
    tenant,
    integrationId,
    syncState,
    publish: async (envelopes) => {
      published.push(...envelopes)
    },
    intervalMs: 60_000, // rounds in these tests come from pollNow(), not the timer
    pageSize: 50,
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    ...overrides,
  })
  t.teardown(() => poller.stop())
  return { poller, syncState, published, logs }
}

t.test('a round polls all six resources and records their status', async (t) => {
  const { poller, syncState, published } = newPoller('acme', 'acme-int')
  const round = await poller.pollNow()
  t.equal(poller.status, 'running')
  t.same(round.outcomes.map((o) => o.resource), [...ROUND_ORDER])
  t.ok(round.outcomes.every((o) => o.ok))
  const company = sim.integration('acme-int')
  for (const resource of komboResources) {
    const expected = company.list(resource, { includeDeleted: true })
    const got = published.filter((e) => e.resource === resource)
    t.equal(got.length, expected.length, `${resource}: every record published`)
    const state = await syncState.get('acme', resource)
    t.equal(state?.recordsSeen, expected.length)
    t.equal(state?.watermark, expected.map((r) => r.changed_at).sort().at(-1) ?? null)
    t.ok(state?.lastSuccessAt)
  }
  t.ok(published.every((e) => e.pollId === round.pollId && e.tenant === 'acme'))
})

t.test('a round polls what records refer to before them: teams, locations, legal entities and absence types, then employees, then absences', async (t) => {
  t.same([...ROUND_ORDER].sort(), [...komboResources].sort(), 'every resource has its place')
  const requested: string[] = []
  const { poller, published } = newPoller('ordered', 'ordered-int', {
    resources: [...komboResources], // the catalogue's order (employees first) is not the round's
    client: {
      listPage: (...args: Parameters<KomboClient['listPage']>) => {
        requested.push(args[1])
        return client.listPage(...args)
      },
    },
  })
  await poller.pollNow()
  const firstRequest = (r: string) => requested.indexOf(r)
  for (const referenced of ['groups', 'work-locations', 'legal-entities', 'absence-types']) t.ok(firstRequest(referenced) < firstRequest('employees'), `${referenced} before employees`)
  t.ok(firstRequest('employees') < firstRequest('absences'), 'employees before absences')
  const lastEmployee = published.findLastIndex((e) => e.resource === 'employees')
  const firstTeam = published.findIndex((e) => e.resource === 'groups')
  t.ok(firstTeam >= 0 && firstTeam < published.findIndex((e) => e.resource === 'employees') && lastEmployee < published.findIndex((e) => e.resource === 'absences'), 'and publishes in that order')
})

t.test('one tenant with rejected credentials stops; the other keeps syncing', async (t) => {
  const good = newPoller('good', 'good-int')
  const bad = newPoller('bad', 'bad-int')
  await good.poller.pollNow()
  sim.injectFault({ kind: 'status', status: 401, integrationId: 'bad-int', times: 100 })
  const badRound = await bad.poller.pollNow()
  t.equal(badRound.outcomes.length, 1, 'no other resource is tried after a 401')
  t.type((badRound.outcomes[0] as { error: Error }).error, KomboAuthError)
  t.equal(bad.poller.status, 'failed')
  const reason = bad.poller.stoppedBecause
  t.type(reason, TenantPollingStoppedError)
  t.match(reason?.message, /tenant bad/)
  t.match(reason?.message, /bad-int/)
  t.notOk(reason?.message.includes(API_KEY))
  t.notOk(JSON.stringify(bad.logs).includes(API_KEY), 'the key is in no log line')
  t.ok(bad.logs.some((l) => l.level === 'error' && /tenant bad/.test(l.msg)))
  for (const state of await bad.syncState.list('bad')) {
    t.equal(state.failing, true, `${state.resource} marked failing`)
    t.match(state.lastError?.message, /tenant bad/)
    t.notOk(state.lastError?.message.includes(API_KEY))
  }
  t.equal((await bad.syncState.list('bad')).length, komboResources.length)
  await t.rejects(bad.poller.pollNow(), TenantPollingStoppedError, 'a stopped tenant does not poll again')

  // the good tenant is unaffected
  const company = sim.integration('good-int')
  const hire = company.hire({ first_name: 'Still', last_name: 'Syncing' })
  good.published.length = 0
  const round = await good.poller.pollNow()
  t.ok(round.outcomes.every((o) => o.ok))
  t.ok(good.published.some((e) => e.record.id === hire.id), 'the other tenant sees the new hire')
  t.equal(good.poller.status, 'running')
  t.ok((await good.syncState.list('good')).every((s) => !s.failing))
})

t.test('a transient outage is recorded and retried next round', async (t) => {
  const { poller, syncState } = newPoller('flaky', 'flaky-int', { resources: ['groups', 'employees'] })
  sim.injectFault({ kind: 'status', status: 503, integrationId: 'flaky-int', resource: 'groups', times: 2 })
  const round = await poller.pollNow()
  t.equal(round.outcomes[0].ok, false)
  t.type((round.outcomes[0] as { error: Error }).error, KomboUnavailableError)
  t.equal(round.outcomes[1].ok, true, 'the other resource still synced')
  let groups = await syncState.get('flaky', 'groups')
  t.equal(groups?.watermark, null)
  t.match(groups?.lastError?.message, /unavailable/)
  t.equal(groups?.failing, false, 'a transient error does not mark the resource failing')
  t.equal(poller.status, 'running')
  const next = await poller.pollNow()
  t.ok(next.outcomes.every((o) => o.ok))
  groups = await syncState.get('flaky', 'groups')
  t.ok(groups?.watermark)
})

t.test('the timer drives rounds after start()', async (t) => {
  let rounds = 0
  let reached!: () => void
  const threeRounds = new Promise<void>((resolve) => (reached = resolve))
  const { poller } = newPoller('timer', 'timer-int', {
    intervalMs: 5,
    resources: ['absence-types'],
    newPollId: () => {
      if (++rounds === 3) reached()
      return `round-${rounds}`
    },
  })
  poller.start()
  await threeRounds
  await poller.stop()
  t.equal(poller.status, 'stopped')
  t.ok(rounds >= 3)
  await t.rejects(poller.pollNow(), /stopped/)
})

t.test('rounds start at a fixed rate: the next one interval after the last began, at once after a longer round', async (t) => {
  t.equal(nextRoundDelay(500, 1_000, 1_100), 400, 'a round of 100 ms: 400 ms to wait')
  t.equal(nextRoundDelay(500, 1_000, 1_500), 0, 'a round as long as the interval: none')
  t.equal(nextRoundDelay(500, 1_000, 4_000), 0, 'a longer round: none, and no catching up on missed rounds')
  t.equal(nextRoundDelay(500, 1_000, 900), 500, 'a clock set back: never more than the interval')

  // The first round publishes slowly (longer than the interval), the second quickly: the second
  // must follow the first at once (it waited a whole interval before), the third an interval
  // after the second began.
  const intervalMs = 1_500
  const roundStarts: number[] = []
  const roundEnds: number[] = []
  let reached!: () => void
  const threeRounds = new Promise<void>((resolve) => (reached = resolve))
  const { poller } = newPoller('fixed-rate', 'fixed-rate-int', {
    intervalMs,
    resources: ['absence-types'],
    newPollId: () => {
      roundStarts.push(performance.now())
      if (roundStarts.length === 3) reached()
      return `round-${roundStarts.length}`
    },
    onPolled: () => roundEnds.push(performance.now()), // one resource: its outcome ends the round
    publish: async () => {
      if (roundStarts.length === 1) await new Promise((r) => setTimeout(r, intervalMs + 300))
    },
  })
  poller.start()
  await threeRounds
  await poller.stop()
  t.ok(roundStarts[1] - roundStarts[0] >= intervalMs + 300 - 5, 'the first round took longer than the interval')
  t.ok(roundStarts[1] - roundEnds[0] < intervalMs / 2, `the second round began at once after it (${Math.round(roundStarts[1] - roundEnds[0])} ms, not a whole interval)`)
  t.ok(roundStarts[2] - roundStarts[1] >= intervalMs - 5, `the third began an interval after the second began (${Math.round(roundStarts[2] - roundStarts[1])} ms)`)
})

t.test('stop() finishes the page in flight and then resolves, without advancing the watermark', async (t) => {
  let stopping: Promise<void> | undefined
  let pages = 0
  const ctx = newPoller('stopper', 'stopper-int', {
    resources: ['groups', 'employees'],
    pageSize: 4,
    publish: async (envelopes) => {
      pages += 1
      ctx.published.push(...envelopes)
      if (pages === 1) stopping = ctx.poller.stop()
    },
  })
  const round = ctx.poller.pollNow().catch((e: unknown) => e)
  await round
  await stopping
  t.equal(pages, 1, 'no page after the one in flight')
  t.equal(ctx.published.length, 4, 'the page in flight was handed on')
  t.equal(ctx.poller.status, 'stopped')
  t.equal((await ctx.syncState.get('stopper', 'groups'))?.watermark, null)
  t.equal(await ctx.syncState.get('stopper', 'employees'), null, 'no further resource started')
})

t.test('pollNow during a round gets a round that starts after it', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  let calls = 0
  const ctx = newPoller('webhook', 'webhook-int', {
    resources: ['legal-entities'],
    publish: async () => {
      if (++calls === 1) await gate
    },
  })
  const first = ctx.poller.pollNow()
  while (calls === 0) await new Promise((r) => setImmediate(r))
  const second = ctx.poller.pollNow() // a webhook arrives mid-round
  release()
  const [a, b] = await Promise.all([first, second])
  t.not(a.pollId, b.pollId, 'the webhook got its own, later round')
  const reread = b.outcomes[0]
  t.ok(reread?.ok && reread.records + reread.skipped > 0, 'the later round read Kombo again')
  t.equal(calls, 1, 'and published nothing: what it read again was an exact repeat')
})

t.test('stop() cuts a retry wait short', async (t) => {
  let waiting!: () => void
  const inBackoff = new Promise<void>((resolve) => (waiting = resolve))
  // a sleep that never ends: only the stop signal can end the wait
  const stuck = new KomboClient({
    baseUrl: sim.url,
    apiKey: API_KEY,
    sleep: () => {
      waiting()
      return new Promise<void>(() => {})
    },
  })
  const { poller, syncState } = newPoller('stuck', 'stuck-int', { client: stuck, resources: ['groups'] })
  sim.injectFault({ kind: 'status', status: 503, integrationId: 'stuck-int', times: 100 })
  const round = poller.pollNow()
  await inBackoff
  await poller.stop()
  const r = await round
  t.equal(r.outcomes[0].ok, false)
  t.match((r.outcomes[0] as { error: Error }).error.message, /stopped while waiting to retry/)
  t.equal(poller.status, 'stopped')
  t.equal((await syncState.get('stuck', 'groups'))?.lastError, null, 'a shutdown is not recorded as a Kombo failure')
})

t.test('a round that found something logs at info; one that found nothing at debug', async (t) => {
  const { poller, logs } = newPoller('quiet', 'quiet-int')
  await poller.pollNow()
  const first = logs.filter((l) => l.msg === 'poll finished')
  t.ok(first.length > 0 && first.every((l) => l.level === 'info' || (l.obj as { records: number }).records === 0), 'the first round reports what it found at info')
  t.ok(first.some((l) => l.level === 'info' && (l.obj as { records: number }).records > 0), 'records found are at info')
  logs.length = 0
  await poller.pollNow()
  const idle = logs.filter((l) => l.msg === 'poll finished')
  t.equal(idle.length, komboResources.length, 'one line per resource')
  t.ok(idle.every((l) => l.level === 'debug'), 'an idle round logs at debug only')
})

t.test('pollNow(resources) polls only those resources, once a full round has been made within the interval', async (t) => {
  const { poller } = newPoller('partial', 'partial-int')
  const first = await poller.pollNow(['employees'])
  t.same(first.outcomes.map((o) => o.resource), [...ROUND_ORDER], 'the first round is a full one (none made yet)')
  const partial = await poller.pollNow(['employees', 'groups'])
  t.same(partial.outcomes.map((o) => o.resource), ['groups', 'employees'], 'then only what was asked for, in round order')
  const [a, b] = await Promise.all([poller.pollNow(['absences']), poller.pollNow(['work-locations'])])
  t.equal(a.pollId, b.pollId, 'requests before the round starts share it')
  t.same(a.outcomes.map((o) => o.resource), ['work-locations', 'absences'], 'with the union of what they asked for')
  t.same((await poller.pollNow()).outcomes.map((o) => o.resource), [...ROUND_ORDER], 'without resources: all of them')
})

t.test('initialPolling is true until a round has completed every resource', async (t) => {
  const { poller } = newPoller('first-round', 'first-round-int')
  t.equal(poller.initialPolling, true, 'before any round')
  sim.injectFault({ kind: 'status', status: 503, integrationId: 'first-round-int', resource: 'absences', times: 2 }) // the client's two attempts of the first round
  await poller.pollNow()
  t.equal(poller.initialPolling, true, 'a round in which one resource failed: still the initial sync')
  await poller.pollNow()
  t.equal(poller.initialPolling, false, 'once every resource has been read')
})
