// The client against the Kombo simulator over real HTTP, with every fault the simulator can inject.
// `sleep` is faked (it records the delays) so retries cost no wall time.
import t, { type Test } from 'tap'
import { inspect } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { startKomboSimulator } from '../../simulator/index.ts'
import { KomboClient, parseRetryAfter, type KomboClientOptions, type KomboRetryInfo } from './client.ts'
import {
  KomboAuthError,
  KomboIntegrationNotFoundError,
  KomboRequestError,
  KomboUnavailableError,
  KomboError,
} from './errors.ts'

const API_KEY = 'sk_live_very-secret-kombo-key-1234567890'
const INTEGRATION = 'personio:acme-test'

const sim = await startKomboSimulator({ employees: 12, seed: 11 })
t.teardown(() => sim.close())
t.afterEach(() => sim.clearFaults())

function newClient(overrides: Partial<KomboClientOptions> = {}) {
  const delays: number[] = []
  const retries: KomboRetryInfo[] = []
  const client = new KomboClient({
    baseUrl: sim.url,
    apiKey: API_KEY,
    timeoutMs: 2_000,
    random: () => 0.5,
    sleep: async (ms) => {
      delays.push(ms)
    },
    onRetry: (info) => retries.push(info),
    ...overrides,
  })
  return { client, delays, retries }
}

/** Everything an error could leak through: message, stack, JSON, inspection, enumerable fields. */
function assertNoKey(t: Test, err: unknown) {
  const e = err as Error
  for (const [what, text] of [
    ['message', e.message],
    ['stack', e.stack ?? ''],
    ['JSON', JSON.stringify(e)],
    ['inspect', inspect(e, { depth: 10, showHidden: true })],
    ['fields', JSON.stringify(Object.entries(e))],
  ] as const) {
    t.notOk(text.includes(API_KEY), `the API key is not in the error's ${what}`)
    t.notOk(text.includes('very-secret'), `no part of the API key is in the error's ${what}`)
  }
}

t.test('a page comes back with results and next, sending the key and integration id', async (t) => {
  const { client, delays } = newClient()
  const before = sim.requestLog.length
  const page = await client.listPage(INTEGRATION, 'employees', { pageSize: 5, includeDeleted: true })
  t.equal(page.results.length, 5)
  t.type(page.next, 'string')
  t.same(delays, [])
  const entry = sim.requestLog[before]
  t.equal(entry.integrationId, INTEGRATION)
  t.equal(entry.query.page_size, '5')
  t.equal(entry.query.include_deleted, 'true')
  t.equal(entry.status, 200)
  const next = await client.listPage(INTEGRATION, 'employees', { pageSize: 5, cursor: page.next!, includeDeleted: true })
  t.equal(next.results.length, 5)
  t.notSame(
    next.results.map((r) => (r as { id: string }).id),
    page.results.map((r) => (r as { id: string }).id),
    'the cursor moves on',
  )
})

t.test('429 with Retry-After waits as long as Kombo says', async (t) => {
  sim.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 7 })
  const { client, delays, retries } = newClient()
  const page = await client.listPage(INTEGRATION, 'groups')
  t.ok(page.results.length > 0)
  t.same(delays, [7000])
  t.equal(retries[0].status, 429)
  t.equal(retries[0].attempt, 1)
  t.match(retries[0].reason, /rate limited/)
  t.equal(retries[0].integrationId, INTEGRATION)
  t.notOk(JSON.stringify(retries).includes(API_KEY))
})

t.test('a Retry-After beyond the cap is capped', async (t) => {
  sim.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 3600 })
  const { client, delays } = newClient({ retry: { maxRetryAfterMs: 45_000 } })
  await client.listPage(INTEGRATION, 'groups')
  t.same(delays, [45_000])
})

t.test('429 without Retry-After backs off exponentially with jitter', async (t) => {
  sim.injectFault({ kind: 'status', status: 429, times: 2 })
  const { client, delays } = newClient()
  await client.listPage(INTEGRATION, 'groups')
  // random 0.5 of ceilings 500 and 1000
  t.same(delays, [250, 500])
})

t.test('a burst of 500s is retried until it passes', async (t) => {
  sim.injectFault({ kind: 'status', status: 500, times: 3 })
  const { client, delays, retries } = newClient()
  const page = await client.listPage(INTEGRATION, 'work-locations')
  t.ok(page.results.length > 0)
  t.same(delays, [250, 500, 1000])
  t.same(retries.map((r) => r.status), [500, 500, 500])
})

t.test('backoff is capped and full jitter spans [0, ceiling)', async (t) => {
  sim.injectFault({ kind: 'status', status: 503, times: 5 })
  const { client, delays } = newClient({ random: () => 0.999, retry: { baseDelayMs: 1000, maxDelayMs: 3000 } })
  await client.listPage(INTEGRATION, 'groups')
  t.same(delays, [999, 1998, 2997, 2997, 2997])
  sim.injectFault({ kind: 'status', status: 503, times: 1 })
  const zero = newClient({ random: () => 0 })
  await zero.client.listPage(INTEGRATION, 'groups')
  t.same(zero.delays, [0])
})

t.test('an outage longer than the retry budget ends in KomboUnavailableError', async (t) => {
  sim.injectFault({ kind: 'status', status: 503, times: 10 })
  const { client, delays } = newClient({ retry: { maxAttempts: 4 } })
  const err = await client.listPage(INTEGRATION, 'absences', { tenant: 'acme' }).catch((e: unknown) => e)
  t.type(err, KomboUnavailableError)
  const e = err as KomboUnavailableError
  t.equal(e.retriable, true)
  t.equal(e.attempts, 4)
  t.equal(e.status, 503)
  t.equal(e.integrationId, INTEGRATION)
  t.equal(e.resource, 'absences')
  t.match(e.message, /tenant acme/)
  t.match(e.message, /HTTP 503/)
  t.equal(delays.length, 3, 'no wait after the last attempt')
  assertNoKey(t, e)
})

t.test('a slow response times out and is retried', async (t) => {
  sim.injectFault({ kind: 'slow', delayMs: 5_000 })
  const { client, retries } = newClient({ timeoutMs: 150 })
  const page = await client.listPage(INTEGRATION, 'groups')
  t.ok(page.results.length > 0)
  t.equal(retries.length, 1)
  t.equal(retries[0].status, null)
  t.match(retries[0].reason, /no complete response within 150 ms/)
})

t.test('the timeout fires even when garbage is collected while the request waits', async (t) => {
  // nodejs/node#57736: a timeout signal inside AbortSignal.any can be collected before it fires, and
  // the request then waits as long as the server likes. Collect garbage all through the wait.
  setFlagsFromString('--expose_gc')
  const gc = runInNewContext('gc') as () => void
  const collecting = setInterval(gc, 20)
  t.teardown(() => clearInterval(collecting))
  sim.injectFault({ kind: 'slow', delayMs: 1_500 })
  const { client, retries } = newClient({ timeoutMs: 200 })
  await client.listPage(INTEGRATION, 'groups')
  t.equal(retries.length, 1, 'the slow answer was abandoned and retried, not waited for')
  t.match(retries[0]?.reason, /no complete response within 200 ms/)
})

t.test('a truncated JSON body is retried', async (t) => {
  sim.injectFault({ kind: 'truncated' })
  const { client, retries } = newClient()
  const page = await client.listPage(INTEGRATION, 'groups')
  t.ok(page.results.length > 0)
  t.equal(retries.length, 1)
  t.match(retries[0].reason, /not JSON/)
})

t.test('a body that is not JSON (a proxy error page) is retried', async (t) => {
  sim.injectFault({ kind: 'not-json' })
  const { client, retries } = newClient()
  const page = await client.listPage(INTEGRATION, 'groups')
  t.ok(page.results.length > 0)
  t.equal(retries.length, 1)
  t.match(retries[0].reason, /not JSON/)
})

t.test('garbage every time ends in KomboUnavailableError', async (t) => {
  sim.injectFault({ kind: 'truncated', times: 3 })
  const { client } = newClient({ retry: { maxAttempts: 3 } })
  await t.rejects(client.listPage(INTEGRATION, 'groups'), KomboUnavailableError)
})

t.test('401 is a KomboAuthError at once, naming the integration but never the key', async (t) => {
  sim.injectFault({ kind: 'status', status: 401 })
  const { client, delays } = newClient()
  const before = sim.requestLog.length
  const err = await client.listPage(INTEGRATION, 'employees', { tenant: 'acme' }).catch((e: unknown) => e)
  t.type(err, KomboAuthError)
  const e = err as KomboAuthError
  t.equal(e.retriable, false)
  t.equal(e.status, 401)
  t.equal(e.integrationId, INTEGRATION)
  t.equal(e.tenant, 'acme')
  t.match(e.message, INTEGRATION)
  t.match(e.message, /tenant acme/)
  t.same(delays, [], 'no retries')
  t.equal(sim.requestLog.length - before, 1, 'one request only')
  assertNoKey(t, e)
})

t.test('403 is a KomboAuthError too', async (t) => {
  sim.injectFault({ kind: 'status', status: 403 })
  const { client } = newClient()
  await t.rejects(client.listPage(INTEGRATION, 'employees'), KomboAuthError)
})

t.test('a missing key is rejected by Kombo as 401', async (t) => {
  // the simulator answers 401 to a request without a Bearer token; a blank-ish key is our closest
  const client = new KomboClient({ baseUrl: sim.url, apiKey: ' ', sleep: async () => {} })
  await t.rejects(client.listPage(INTEGRATION, 'employees'), KomboAuthError)
})

t.test('404 is KomboIntegrationNotFoundError, other 4xx KomboRequestError; neither retried', async (t) => {
  sim.injectFault({ kind: 'status', status: 404 })
  const { client, delays } = newClient()
  const nf = await client.listPage(INTEGRATION, 'employees').catch((e: unknown) => e)
  t.type(nf, KomboIntegrationNotFoundError)
  t.equal((nf as KomboError).retriable, false)
  sim.injectFault({ kind: 'status', status: 400 })
  const bad = await client.listPage(INTEGRATION, 'employees').catch((e: unknown) => e)
  t.type(bad, KomboRequestError)
  t.equal((bad as KomboError).status, 400)
  t.match((bad as Error).message, /PLATFORM.INPUT_INVALID/)
  t.same(delays, [])
  assertNoKey(t, nf)
  assertNoKey(t, bad)
})

t.test('a key echoed back by the server is redacted from messages', async (t) => {
  const { createServer } = await import('node:http')
  const server = createServer((req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ status: 'error', error: { code: 'X', title: 'bad', message: `you sent ${req.headers.authorization}` } }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const port = (server.address() as { port: number }).port
  const client = new KomboClient({ baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: API_KEY })
  const err = await client.listPage(INTEGRATION, 'employees').catch((e: unknown) => e)
  t.type(err, KomboRequestError)
  t.match((err as Error).message, /\[redacted\]/)
  assertNoKey(t, err)
})

t.test('a refused connection is retried, then unavailable', async (t) => {
  const { client, delays } = newClient({ baseUrl: 'http://127.0.0.1:1/v1', retry: { maxAttempts: 2 } })
  const err = await client.listPage(INTEGRATION, 'employees').catch((e: unknown) => e)
  t.type(err, KomboUnavailableError)
  t.match((err as Error).message, /network error/)
  t.equal(delays.length, 1)
})

t.test('the client itself does not expose the key', async (t) => {
  const { client } = newClient()
  t.notOk(JSON.stringify(client).includes(API_KEY))
  t.notOk(inspect(client, { depth: 5 }).includes(API_KEY))
})

t.test('parseRetryAfter reads seconds and HTTP dates', async (t) => {
  const now = Date.parse('2026-03-01T10:00:00Z')
  t.equal(parseRetryAfter('120', now), 120_000)
  t.equal(parseRetryAfter('1.5', now), 1500)
  t.equal(parseRetryAfter('Sun, 01 Mar 2026 10:00:30 GMT', now), 30_000)
  t.equal(parseRetryAfter('Sun, 01 Mar 2026 09:00:00 GMT', now), 0, 'a date in the past means now')
  t.equal(parseRetryAfter('soon', now), null)
  t.equal(parseRetryAfter(null, now), null)
})
