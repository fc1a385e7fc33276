// Incremental polls against the Kombo simulator over real HTTP: full sync, incremental sync,
// deletions, failures halfway through paging, and records that break the schema.
import t from 'tap'
import { startKomboSimulator } from '../simulator/index.ts'
import type { ChangeEnvelope } from '../schemas/envelope.ts'
import { KomboClient } from './kombo/client.ts'
import { KomboUnavailableError } from './kombo/errors.ts'
import { InMemorySyncStateStore } from './sync-state/memory.ts'
import { RecentlyPublished } from './recently-published.ts'
import { pollResource, asEnvelopeRecord, DEFAULT_WATERMARK_OVERLAP_MS, type PollResourceOptions } from './poll-resource.ts'

let clock = Date.parse('2026-03-02T09:00:00.000Z')
const now = () => new Date(clock)
const sim = await startKomboSimulator({ employees: 40, seed: 3, now })
t.teardown(() => sim.close())
t.afterEach(() => sim.clearFaults())

const client = new KomboClient({ baseUrl: sim.url, apiKey: 'test-key', sleep: async () => {}, retry: { maxAttempts: 2 } })

function setup(integrationId: string, overrides: Partial<PollResourceOptions> = {}) {
  const syncState = new InMemorySyncStateStore(now)
  const published: ChangeEnvelope[][] = []
  let polls = 0
  const poll = (more: Partial<PollResourceOptions> = {}) =>
    pollResource({
      client,
      tenant: 'acme',
      integrationId,
      resource: 'employees',
      syncState,
      publish: async (envelopes) => {
        published.push(envelopes)
      },
      pageSize: 7,
      pollId: `poll-${++polls}`,
      now,
      ...overrides,
      ...more,
    })
  return { syncState, published, poll, company: sim.integration(integrationId) }
}

const idsAndVersions = (records: Array<{ id: string; changed_at: string }>) =>
  records.map((r) => `${r.id}@${r.changed_at}`).sort()
const flat = (pages: ChangeEnvelope[][]) => pages.flat()
const records = (pages: ChangeEnvelope[][]) => flat(pages).map((e) => e.record as { id: string; changed_at: string })
/** Splits what a poll read into re-reads within the overlap before `watermark`, and the rest. */
function splitOverlap(received: Array<{ id: string; changed_at: string }>, watermark: string) {
  const w = Date.parse(watermark)
  const inOverlap = (r: { changed_at: string }) => Date.parse(r.changed_at) <= w
  return { overlap: received.filter(inOverlap), fresh: received.filter((r) => !inOverlap(r)) }
}

t.test('a first poll reads everything, each record once, and sets the watermark to the greatest changed_at', async (t) => {
  const { syncState, published, poll, company } = setup('full-sync')
  company.remove('employees', company.list('employees')[3].id)
  const expected = company.list('employees', { includeDeleted: true })
  const result = await poll()
  const envelopes = flat(published)
  t.same(
    idsAndVersions(envelopes.map((e) => e.record as { id: string; changed_at: string })),
    idsAndVersions(expected),
    'exactly the simulator records, same changed_at',
  )
  t.equal(new Set(envelopes.map((e) => e.record.id)).size, envelopes.length, 'no record twice within one poll')
  t.equal(result.records, expected.length)
  t.equal(result.pages, Math.ceil(expected.length / 7))
  t.equal(result.completed, true)
  const greatest = expected.map((r) => r.changed_at).sort().at(-1)
  t.equal(result.watermark, greatest)
  const state = await syncState.get('acme', 'employees')
  t.equal(state?.watermark, greatest)
  t.equal(state?.recordsSeen, expected.length)
  t.equal(state?.failing, false)
  for (const e of envelopes) {
    t.equal(e.tenant, 'acme')
    t.equal(e.integrationId, 'full-sync')
    t.equal(e.resource, 'employees')
    t.equal(e.pollId, 'poll-1')
    t.equal(e.fetchedAt, now().toISOString())
  }
  const deleted = envelopes.filter((e) => e.record.remote_deleted_at)
  t.equal(deleted.length, 1, 'the deleted employee arrives, with remote_deleted_at')
  const firstRequest = sim.requestLog.find((r) => r.integrationId === 'full-sync')
  t.equal(firstRequest?.query.include_deleted, 'true')
  t.equal(firstRequest?.query.updated_after, undefined, 'no watermark yet: read everything')
})

t.test('a second poll returns only what changed since (the overlap aside), deletions included', async (t) => {
  const { syncState, published, poll, company } = setup('incremental')
  await poll()
  const first = await syncState.get('acme', 'employees')
  published.length = 0
  clock += 10 * 60_000 // ten minutes later: well past the overlap
  const employees = company.list('employees')
  const changed = [
    company.update('employees', employees[0].id, { job_title: 'Chief Tester' }),
    company.update('employees', employees[5].id, { last_name: 'Renamed' }),
    company.hire({ first_name: 'New', last_name: 'Hire' }),
    company.remove('employees', employees[9].id),
  ]
  const before = sim.requestLog.length
  const result = await poll()
  const envelopes = flat(published)
  const { overlap, fresh } = splitOverlap(records(published), first!.watermark!)
  t.same(idsAndVersions(fresh), idsAndVersions(changed), 'exactly the changed records after the watermark')
  for (const r of overlap) {
    t.ok(Date.parse(r.changed_at) >= Date.parse(first!.watermark!) - DEFAULT_WATERMARK_OVERLAP_MS, `re-read ${r.id} lies within the overlap`)
  }
  const removed = envelopes.find((e) => e.record.id === employees[9].id)
  t.ok(removed?.record.remote_deleted_at, 'deletion arrives with remote_deleted_at')
  t.equal(result.watermark, changed.map((r) => r.changed_at).sort().at(-1))
  const request = sim.requestLog[before]
  t.equal(
    request.query.updated_after,
    new Date(Date.parse(first!.watermark!) - DEFAULT_WATERMARK_OVERLAP_MS).toISOString(),
    'reads from the watermark minus the overlap',
  )
  t.equal(request.query.include_deleted, 'true')

  published.length = 0
  const quiet = await poll()
  t.same(idsAndVersions(records(published)), idsAndVersions(changed), 'nothing changed: only the overlap (the last changes) is re-read')
  t.equal(quiet.watermark, result.watermark, 'an empty poll keeps the watermark')
})

t.test('records within the overlap come again, and the watermark does not move backwards', async (t) => {
  const { published, poll, company } = setup('overlap')
  await poll()
  clock += 10 * 60_000
  const a = company.update('employees', company.list('employees')[1].id, { job_title: 'A' })
  clock += 1_000
  const b = company.update('employees', company.list('employees')[2].id, { job_title: 'B' })
  await poll()
  published.length = 0
  const again = await poll()
  t.same(flat(published).map((e) => e.record.id).sort(), [a.id, b.id].sort(), 'at most the overlap is re-read')
  t.equal(again.watermark, b.changed_at)
})

t.test('a fault halfway through paging advances nothing, and the re-poll loses nothing', async (t) => {
  const { syncState, published, poll, company } = setup('halfway')
  await poll()
  const watermark = (await syncState.get('acme', 'employees'))!.watermark
  clock += 10 * 60_000
  const changed = company.list('employees').slice(0, 20).map((e, i) => company.update('employees', e.id, { job_title: `Title ${i}` }))
  published.length = 0
  let pagesHandedOn = 0
  const failing = poll({
    publish: async (envelopes) => {
      published.push(envelopes)
      // after the second page, Kombo goes down for longer than the retry budget
      if (++pagesHandedOn === 2) sim.injectFault({ kind: 'status', status: 503, times: 2, integrationId: 'halfway' })
    },
  })
  await t.rejects(failing, KomboUnavailableError)
  t.equal(flat(published).length, 14, 'two pages were handed on before the fault')
  const state = await syncState.get('acme', 'employees')
  t.equal(state?.watermark, watermark, 'the watermark did not move')

  clock += 60_000
  const later = company.update('employees', changed[0].id, { job_title: 'Changed again' })
  published.length = 0
  const result = await poll()
  const { fresh } = splitOverlap(records(published), watermark!)
  const expected = [...changed.slice(1), later]
  t.same(idsAndVersions(fresh), idsAndVersions(expected), 'every change arrives in the re-poll')
  t.equal(result.watermark, later.changed_at)
})

t.test('a poll stopped between pages hands on what it read and advances nothing', async (t) => {
  const { syncState, published, poll } = setup('stopped')
  const stop = new AbortController()
  const result = await poll({
    signal: stop.signal,
    publish: async (envelopes) => {
      published.push(envelopes)
      stop.abort()
    },
  })
  t.equal(result.completed, false)
  t.equal(result.pages, 1)
  t.equal(flat(published).length, 7)
  t.equal(result.watermark, null)
  t.equal((await syncState.get('acme', 'employees'))?.watermark, null)
})

t.test('invalid records are handed on, not dropped; id-less ones under an invalid- key', async (t) => {
  const { published, poll, syncState, company } = setup('invalid')
  const expected = company.list('employees', { includeDeleted: true })
  sim.injectFault({ kind: 'invalid-record', patch: { id: null }, integrationId: 'invalid' })
  sim.injectFault({ kind: 'invalid-record', patch: { employment_status: 'ON_MARS', changed_at: 'not a date' }, integrationId: 'invalid' })
  const result = await poll()
  const envelopes = flat(published)
  t.equal(envelopes.length, expected.length, 'nothing lost')
  const idless = envelopes.filter((e) => e.record.id.startsWith('invalid-'))
  t.equal(idless.length, 1)
  t.match(idless[0].record, { invalidRecord: { id: null }, reason: /no string id/ })
  t.equal(idless[0].record.changed_at, undefined, 'the wrapper can never pass the resource schema')
  const odd = envelopes.find((e) => e.record.employment_status === 'ON_MARS')
  t.equal(odd?.record.changed_at, 'not a date', 'a record that breaks the schema goes on as received')
  t.ok(result.watermark && !Number.isNaN(Date.parse(result.watermark)), 'an unparseable changed_at is ignored for the watermark')
  t.equal((await syncState.get('acme', 'employees'))?.recordsSeen, expected.length)
})

t.test('the watermark never moves backwards, whatever a page says', async (t) => {
  const syncState = new InMemorySyncStateStore(now)
  await syncState.recordPollSucceeded('acme', 'groups', '2026-03-01T12:00:00.000Z')
  const pages = [
    { results: [{ id: 'g1', changed_at: '2026-03-01T11:59:30.000Z' }], next: 'c1' },
    { results: [{ id: 'g2', changed_at: '2026-03-01T11:00:00+00:00' }], next: null },
  ]
  const asked: unknown[] = []
  const result = await pollResource({
    client: {
      listPage: async (_integration, _resource, options) => {
        asked.push(options)
        return pages.shift()!
      },
    },
    tenant: 'acme',
    integrationId: 'x',
    resource: 'groups',
    syncState,
    publish: async () => {},
    pollId: 'p',
    now,
    overlapMs: 30_000,
  })
  t.equal(result.watermark, '2026-03-01T12:00:00.000Z')
  t.equal((await syncState.get('acme', 'groups'))?.watermark, '2026-03-01T12:00:00.000Z')
  t.match(asked[0], { updatedAfter: '2026-03-01T11:59:30.000Z', includeDeleted: true, cursor: undefined })
  t.match(asked[1], { cursor: 'c1' })
})

t.test('a publish that fails stops the poll without advancing', async (t) => {
  const { syncState, poll } = setup('publish-fails')
  await t.rejects(poll({ publish: async () => Promise.reject(new Error('change log down')) }), /change log down/)
  t.equal((await syncState.get('acme', 'employees'))?.watermark, null)
  t.equal((await syncState.get('acme', 'employees'))?.recordsSeen, 0)
})

t.test('asEnvelopeRecord keys id-less records by content, stably', async (t) => {
  t.equal(asEnvelopeRecord('x').id, asEnvelopeRecord('x').id)
  t.not(asEnvelopeRecord({ a: 1 }).id, asEnvelopeRecord({ a: 2 }).id)
  t.match(asEnvelopeRecord(null).id, /^invalid-[0-9a-f]{32}$/)
  t.match(asEnvelopeRecord({ id: 42 }), { invalidRecord: { id: 42 } })
  const ok = { id: 'e1', changed_at: 'x', extra: true }
  t.equal(asEnvelopeRecord(ok), ok, 'a keyed record goes on untouched')
})

t.test('with the versions already published remembered, an overlap re-read is not published again; changes still are', async (t) => {
  const recentlyPublished = new RecentlyPublished()
  const { published, poll, company } = setup('overlap-skip', { recentlyPublished })
  const first = await poll()
  t.equal(first.skipped, 0, 'a first poll has nothing to skip')
  const inFirstOverlap = company.list('employees', { includeDeleted: true }).filter((r) => Date.parse(r.changed_at) > Date.parse(first.watermark!) - DEFAULT_WATERMARK_OVERLAP_MS).length
  clock += 10 * 60_000
  const a = company.update('employees', company.list('employees')[1].id, { job_title: 'A' })
  const b = company.update('employees', company.list('employees')[2].id, { job_title: 'B' })
  published.length = 0
  const second = await poll()
  t.same(idsAndVersions(records(published)), idsAndVersions([a, b]), 'the two changes are published')
  t.equal(second.skipped, inFirstOverlap, `the first poll's last minute (${inFirstOverlap} records) is read again and skipped`)
  t.ok(recentlyPublished.size <= 2, `versions older than the next overlap are forgotten (${recentlyPublished.size} kept)`)

  published.length = 0
  const quiet = await poll()
  t.same(flat(published), [], 'the re-read of a and b is not published again')
  t.equal(quiet.skipped, 2)
  t.equal(quiet.records, 0)
  t.equal(quiet.watermark, b.changed_at, 'the watermark stays')

  clock += 1_000
  const a2 = company.update('employees', a.id, { job_title: 'A again' })
  published.length = 0
  const third = await poll()
  t.same(idsAndVersions(records(published)), idsAndVersions([a2]), 'only the new version of a; b (unchanged) is skipped')
  t.equal(third.skipped, 1)
})

t.test('the next page is requested while the page before it is handed on, one request at a time, in order', async (t) => {
  const { published, poll, company } = setup('read-ahead')
  const expected = company.list('employees', { includeDeleted: true })
  const requested: Array<string | undefined> = []
  let inFlight = 0
  let mostInFlight = 0
  const counting = {
    async listPage(...args: Parameters<KomboClient['listPage']>) {
      requested.push(args[2]?.cursor)
      inFlight += 1
      mostInFlight = Math.max(mostInFlight, inFlight)
      try {
        return await client.listPage(...args)
      } finally {
        inFlight -= 1
      }
    },
  }
  // Each hand-off waits until the next page was asked for (it never returns if it is not).
  const handOffSaw: number[] = []
  const result = await poll({
    client: counting,
    publish: async (envelopes) => {
      const pageNumber = published.length + 1
      const deadline = Date.now() + 5_000
      while (requested.length <= pageNumber && pageNumber < Math.ceil(expected.length / 7) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1))
      handOffSaw.push(requested.length)
      published.push(envelopes)
    },
  })
  const pages = Math.ceil(expected.length / 7)
  t.equal(result.pages, pages)
  t.equal(requested.length, pages, 'no page asked for twice, none past the last')
  t.same(handOffSaw.slice(0, -1), handOffSaw.slice(0, -1).map((_, i) => i + 2), 'while page n was handed on, page n + 1 had been asked for')
  t.equal(mostInFlight, 1, 'never two requests at once')
  t.same(idsAndVersions(records(published)), idsAndVersions(expected), 'every record, once, pages in order')
})

t.test('a hand-off that fails while the next page is being read: the poll fails, advances nothing, and the answer ahead goes nowhere', async (t) => {
  const { syncState, poll } = setup('read-ahead-fails')
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => process.off('unhandledRejection', onUnhandled))
  let asked = 0
  const failingAhead = {
    async listPage(...args: Parameters<KomboClient['listPage']>) {
      asked += 1
      if (asked === 1) return client.listPage(...args)
      await new Promise((r) => setTimeout(r, 30))
      throw new KomboUnavailableError('the page ahead failed too', { integrationId: 'read-ahead-fails', resource: 'employees', tenant: 'acme', status: 503, attempts: 1 })
    },
  }
  await t.rejects(poll({ client: failingAhead, publish: async () => Promise.reject(new Error('change log down')) }), /change log down/, "the hand-off's error, not the page ahead's")
  await new Promise((r) => setTimeout(r, 100))
  t.equal(asked, 2, 'the second page had been asked for')
  t.same(unhandled, [], 'its failure was not left unhandled')
  t.equal((await syncState.get('acme', 'employees'))?.watermark, null)
})

t.test('a stop while a page is handed on ends the poll after that page, with no further page asked for', async (t) => {
  const { syncState, poll } = setup('read-ahead-stop')
  const stop = new AbortController()
  let asked = 0
  const counting = {
    listPage: (...args: Parameters<KomboClient['listPage']>) => {
      asked += 1
      return client.listPage(...args)
    },
  }
  let handed = 0
  const result = await poll({
    client: counting,
    signal: stop.signal,
    publish: async () => {
      handed += 1
      if (handed === 2) stop.abort()
    },
  })
  t.equal(result.completed, false)
  t.equal(result.pages, 2)
  t.ok(asked <= 3, `at most the page that was already ahead when the stop came (${asked} asked)`)
  t.equal((await syncState.get('acme', 'employees'))?.watermark, null, 'nothing advanced')
})
