// The Kombo API over real HTTP: envelopes, paging, filters, auth, faults, schema conformance.
import t from 'tap'
import { KomboErrorBody, KomboPage, komboRecordSchemas, komboResourcePath, komboResources, type KomboResource } from '../schemas/kombo.ts'
import { startKomboSimulator, type KomboSimulator } from './index.ts'

const auth = (integrationId = 'acme'): Record<string, string> => ({ authorization: 'Bearer test-key', 'x-integration-id': integrationId })

async function get(sim: KomboSimulator, resource: KomboResource, query: Record<string, string> = {}, headers = auth()) {
  const res = await fetch(`${sim.url}${komboResourcePath[resource]}?${new URLSearchParams(query)}`, { headers })
  return { res, text: await res.text() }
}

async function page(sim: KomboSimulator, resource: KomboResource, query: Record<string, string> = {}, integrationId = 'acme') {
  const { res, text } = await get(sim, resource, query, auth(integrationId))
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text}`)
  return KomboPage.parse(JSON.parse(text)).data as { next: string | null; results: Array<Record<string, unknown> & { id: string; changed_at: string }> }
}

async function readAll(sim: KomboSimulator, resource: KomboResource, query: Record<string, string>, between?: (pageNo: number) => void) {
  const seen: Array<Record<string, unknown> & { id: string; changed_at: string }> = []
  let cursor: string | null = null
  let pageNo = 0
  do {
    const data = await page(sim, resource, cursor ? { ...query, cursor } : query)
    seen.push(...data.results)
    cursor = data.next
    between?.(++pageNo)
  } while (cursor)
  return seen
}

let now = new Date('2025-06-15T12:00:00.000Z')
const sim = await startKomboSimulator({ employees: 50, seed: 7, now: () => now })
t.teardown(() => sim.close())
t.beforeEach(() => sim.clearFaults())

t.test('the success envelope, and every record of every resource parses with the Kombo schemas', async (t) => {
  t.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/)
  for (const resource of komboResources) {
    const records = await readAll(sim, resource, { include_deleted: 'true', page_size: '250' })
    t.ok(records.length > 0, `${resource} has records`)
    const failures = records.filter((r) => !komboRecordSchemas[resource].safeParse(r).success)
    t.equal(failures.length, 0, `${resource} all parse`)
  }
})

t.test('page_size 7 over 50 employees returns each exactly once, in (changed_at, id) order', async (t) => {
  const { results, next } = await page(sim, 'employees', { page_size: '7' })
  t.equal(results.length, 7)
  t.type(next, 'string')
  const all = await readAll(sim, 'employees', { page_size: '7', include_deleted: 'true' })
  t.equal(all.length, 50)
  t.equal(new Set(all.map((e) => e.id)).size, 50)
  const keys = all.map((e) => `${e.changed_at}|${e.id}`)
  t.same(keys, [...keys].sort())
  const { res } = await get(sim, 'employees', { page_size: '251' })
  t.equal(res.status, 400)
})

t.test('updated_after returns only records changed strictly after it', async (t) => {
  const company = sim.integration('acme')
  const [a, b] = company.list('employees')
  now = new Date(now.getTime() + 60_000)
  const first = company.update('employees', a!.id, { job_title: 'Chief Tea Officer' })
  const second = company.update('employees', b!.id, { job_title: 'Head of Biscuits' })
  const after = await readAll(sim, 'employees', { updated_after: first.changed_at })
  t.same(after.map((e) => e.id), [b!.id], 'strictly after: the record at the instant is excluded')
  t.equal(after[0]!.job_title, 'Head of Biscuits')
  t.equal(second.changed_at, after[0]!.changed_at)
  const { res, text } = await get(sim, 'employees', { updated_after: 'last tuesday' })
  t.equal(res.status, 400)
  t.equal(KomboErrorBody.parse(JSON.parse(text)).error.code, 'PLATFORM.INPUT_INVALID')
})

t.test('deleted records are hidden unless include_deleted=true, and keep their id', async (t) => {
  const company = sim.integration('acme')
  const victim = company.list('employees')[5]!
  const removed = company.remove('employees', victim.id)
  const visible = await readAll(sim, 'employees', {})
  t.notOk(visible.some((e) => e.id === victim.id))
  const withDeleted = await readAll(sim, 'employees', { include_deleted: 'true', updated_after: new Date(Date.parse(removed.changed_at) - 1).toISOString() })
  t.same(withDeleted.map((e) => [e.id, e.remote_deleted_at]), [[victim.id, removed.changed_at]])
  company.restore('employees', victim.id)
  t.ok((await readAll(sim, 'employees', {})).some((e) => e.id === victim.id), 'restored')
})

t.test('a record changed between two page fetches is still seen (it moves to the end)', async (t) => {
  const company = sim.integration('acme')
  const order = company.list('employees', { includeDeleted: true }).map((e) => e.id)
  const lateOnFirstPage = order[45]!
  const all = await readAll(sim, 'employees', { page_size: '10', include_deleted: 'true' }, (pageNo) => {
    if (pageNo === 1) company.update('employees', lateOnFirstPage, { job_title: 'Moved mid-paging' })
  })
  const hits = all.filter((e) => e.id === lateOnFirstPage)
  t.equal(hits.length, 1)
  t.equal(hits[0]!.job_title, 'Moved mid-paging')
  t.equal(all.at(-1)!.id, lateOnFirstPage)
  t.equal(new Set(all.map((e) => e.id)).size, 50)
})

t.test('the same seed gives the same data; different integrations different data', async (t) => {
  const other = await startKomboSimulator({ employees: 50, seed: 7, now: () => new Date('2025-06-15T12:00:00.000Z') })
  t.teardown(() => other.close())
  const twin = await startKomboSimulator({ employees: 50, seed: 7, now: () => new Date('2025-06-15T12:00:00.000Z') })
  t.teardown(() => twin.close())
  const a = await page(other, 'employees', { page_size: '250' }, 'tenant-1')
  const b = await page(twin, 'employees', { page_size: '250' }, 'tenant-1')
  t.same(a, b)
  const c = await page(other, 'employees', { page_size: '250' }, 'tenant-2')
  t.notSame(a.results.map((e) => e.id), c.results.map((e) => e.id))
})

t.test('auth: bearer token and X-Integration-Id are required', async (t) => {
  const cases: Array<[Record<string, string>, number, string]> = [
    [{ 'x-integration-id': 'acme' }, 401, 'PLATFORM.AUTHENTICATION_INVALID'],
    [{ authorization: 'Bearer ', 'x-integration-id': 'acme' }, 401, 'PLATFORM.AUTHENTICATION_INVALID'],
    [{ authorization: 'Basic abc', 'x-integration-id': 'acme' }, 401, 'PLATFORM.AUTHENTICATION_INVALID'],
    [{ authorization: 'Bearer k' }, 400, 'PLATFORM.INPUT_INVALID'],
  ]
  for (const [headers, status, code] of cases) {
    const { res, text } = await get(sim, 'employees', {}, headers)
    t.equal(res.status, status)
    const body = KomboErrorBody.parse(JSON.parse(text))
    t.equal(body.error.code, code)
    t.notMatch(text, /test-key/, 'the key is never echoed')
  }
  const unknown = await fetch(`${sim.url}/hris/nothing`, { headers: auth() })
  t.equal(unknown.status, 404)
})

t.test('faults', async (t) => {
  t.test('status with and without Retry-After, counted by times, scoped by integration and resource', async (t) => {
    sim.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 3, times: 2, integrationId: 'acme', resource: 'employees' })
    const other = await get(sim, 'groups')
    t.equal(other.res.status, 200, 'another resource is not affected')
    const otherTenant = await get(sim, 'employees', {}, auth('globex'))
    t.equal(otherTenant.res.status, 200, 'another integration is not affected')
    for (let i = 0; i < 2; i++) {
      const { res, text } = await get(sim, 'employees')
      t.equal(res.status, 429)
      t.equal(res.headers.get('retry-after'), '3')
      t.equal(KomboErrorBody.parse(JSON.parse(text)).error.code, 'PLATFORM.RATE_LIMIT_EXCEEDED')
    }
    t.equal((await get(sim, 'employees')).res.status, 200, 'used up after `times`')
    for (const status of [429, 500, 503, 401, 403]) {
      sim.injectFault({ kind: 'status', status })
      const { res, text } = await get(sim, 'absences')
      t.equal(res.status, status)
      t.equal(res.headers.get('retry-after'), null)
      t.ok(KomboErrorBody.safeParse(JSON.parse(text)).success)
    }
  })
  t.test('slow responds after the delay', async (t) => {
    sim.injectFault({ kind: 'slow', delayMs: 5_000 })
    const timedOut = await fetch(`${sim.url}/hris/employees`, { headers: auth(), signal: AbortSignal.timeout(100) }).then(
      () => 'answered',
      (err: Error) => err.name,
    )
    t.equal(timedOut, 'TimeoutError', 'a client with a short timeout gives up')
    sim.injectFault({ kind: 'slow', delayMs: 20 })
    t.equal((await get(sim, 'employees')).res.status, 200, 'and a patient one gets the page')
  })
  t.test('truncated: 200 with a cut-off JSON body', async (t) => {
    sim.injectFault({ kind: 'truncated' })
    const { res, text } = await get(sim, 'employees')
    t.equal(res.status, 200)
    t.match(res.headers.get('content-type'), /json/)
    t.match(text, /^\{"status":"success"/)
    t.throws(() => JSON.parse(text))
  })
  t.test('not-json: 200 with an HTML body', async (t) => {
    sim.injectFault({ kind: 'not-json' })
    const { res, text } = await get(sim, 'employees')
    t.equal(res.status, 200)
    t.match(res.headers.get('content-type'), /text\/html/)
    t.throws(() => JSON.parse(text))
  })
  t.test('invalid-record: the first record gets the patch', async (t) => {
    sim.injectFault({ kind: 'invalid-record', patch: { changed_at: 'yesterday' } })
    const data = await page(sim, 'employees', { page_size: '3' })
    t.equal(data.results[0]!.changed_at, 'yesterday')
    t.notOk(komboRecordSchemas.employees.safeParse(data.results[0]).success)
    t.ok(komboRecordSchemas.employees.safeParse(data.results[1]).success, 'only the first record')
    const again = await page(sim, 'employees', { page_size: '3' })
    t.not(again.results[0]!.changed_at, 'yesterday', 'the stored record is untouched')
  })
  t.test('clearFaults drops pending faults', async (t) => {
    sim.injectFault({ kind: 'status', status: 500, times: 5 })
    sim.clearFaults()
    t.equal((await get(sim, 'employees')).res.status, 200)
  })
})

t.test('the request log records each API call', async (t) => {
  const before = sim.requestLog.length
  await get(sim, 'legal-entities', { page_size: '2' }, auth('logged'))
  const entry = sim.requestLog.at(-1)!
  t.equal(sim.requestLog.length, before + 1)
  t.same(entry, { integrationId: 'logged', path: '/v1/hris/legal-entities', query: { page_size: '2' }, status: 200 })
})
