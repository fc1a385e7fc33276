// Hostile input at the poller's edge, end to end on the embedded pipeline (issue 12 items 2, 3, 5,
// 7 and issue 15's full reconcile): a watermark from the future, poison records, looping and
// endless pages, oversized and gzip-bomb responses, and a change the incremental polls missed.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256 } from '../../config/config.ts'
import { startTestSimulator, startTestService, syncNow, caughtUp, apiClient, controllableClock } from '../support/e2e-story.ts'
import { recordTrial } from '../support/reliability-log.ts'

const test = 'test/reliability/poller-edge.test.ts'
const metricValue = async (url: string, pattern: RegExp): Promise<number | null> => {
  const text = await (await fetch(`${url}/metrics`)).text()
  const m = pattern.exec(text)
  return m ? Number(m[1]) : null
}

t.test('a changed_at in the future (valid or schema-invalid) does not move the watermark; later changes still arrive', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock, 30)
  // No overlap: each page holds exactly the changes a case makes, the faulty record first.
  const { service } = await startTestService(t, { simulator, clock, env: { KOMBO_WATERMARK_OVERLAP_MS: '0' } })
  await syncNow(service)
  const company = simulator.integration('demo')
  const api = apiClient(service)
  const ids = company.list('employees').map((e) => e.id as string)
  const watermarkBefore = (await service.stores.syncState.get('demo', 'employees'))!.watermark!

  const cases = [
    { name: 'a valid record stamped 3 years ahead', patch: { changed_at: '2029-06-01T00:00:00.000Z', job_title: 'From the future' } },
    { name: 'a schema-invalid record stamped 3 years ahead', patch: { changed_at: '2029-06-01T00:00:00.000Z', job_title: 12345 } },
  ]
  for (const [i, c] of cases.entries()) {
    await t.test(c.name, async (t) => {
      company.update('employees', ids[2 * i], { job_title: `ignored ${i}` })
      simulator.injectFault({ kind: 'invalid-record', resource: 'employees', patch: c.patch })
      await syncNow(service)
      const state = (await service.stores.syncState.get('demo', 'employees'))!
      t.ok(Date.parse(state.watermark!) < Date.parse('2029-01-01T00:00:00Z'), `the watermark stayed near now (${state.watermark})`)
      t.ok(Date.parse(state.watermark!) >= Date.parse(watermarkBefore), 'and never went back')
      if (i === 0) {
        t.equal((await api.user(ids[0]))?.jobTitle, 'From the future', 'the future record itself was taken')
        const sync = await api.get('/sync')
        const employees = sync.body.data.find((s: { resource: string }) => s.resource === 'employees')
        t.ok(employees.clockSkewSeconds > 86_400 * 365, `GET /sync shows the skew seen (${employees.clockSkewSeconds} s)`)
        const gauge = await metricValue(service.url!, /kombo_sync_clock_skew_seconds\{tenant="demo",resource="employees"\} ([\d.e+]+)/)
        t.ok(gauge !== null && gauge > 86_400 * 365, `kombo_sync_clock_skew_seconds shows it (${gauge})`)
      }
      // The change that decides it: stamped now, i.e. before the future record.
      company.update('employees', ids[2 * i + 1], { job_title: `After the future ${i}` })
      await syncNow(service)
      t.equal((await api.user(ids[2 * i + 1]))?.jobTitle, `After the future ${i}`, 'a change stamped after it (but before the future date) arrived')
      recordTrial({ fault: `changed_at in the future: ${c.name}`, area: 'upstream (Kombo)', mode: 'embedded', times: 1, outcome: 'taken (or dead-lettered when invalid) without moving the watermark; skew shown in GET /sync and kombo_sync_clock_skew_seconds; the next change arrived', lost: 'nothing', test, passed: t.passing() })
    })
  }
})

t.test('poison records are repaired or dead-lettered at the poller and never block the pipeline', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock, 30)
  // No overlap: each page holds exactly the two changes a case makes, the poisoned record first.
  const { service } = await startTestService(t, { simulator, clock, env: { KOMBO_WATERMARK_OVERLAP_MS: '0' } })
  await syncNow(service)
  const company = simulator.integration('demo')
  const api = apiClient(service)
  const ids = company.list('employees').map((e) => e.id as string)
  const deep = (levels: number) => '{"x":'.repeat(levels) + '1' + '}'.repeat(levels)

  const cases: Array<{ name: string; json: (base: Record<string, unknown>) => string; expect: 'repaired' | 'dead-lettered'; check?: (user: any) => boolean; reason?: RegExp }> = [
    { name: 'a NUL byte in a name ("Nul\\u0000Name")', json: (b) => JSON.stringify({ ...b, first_name: 'Nul\u0000Name' }), expect: 'repaired', check: (u) => u?.firstName === 'NulName' },
    { name: 'a lone surrogate in a name ("\\ud800")', json: (b) => JSON.stringify({ ...b, last_name: 'Lone\ud800' }), expect: 'repaired', check: (u) => u?.lastName === 'Lone\ufffd' },
    { name: 'a NUL in an id', json: (b) => JSON.stringify({ ...b, id: 'bad\u0000id' }), expect: 'dead-lettered', reason: /NUL/ },
    { name: 'a field nested 8,000 deep', json: (b) => JSON.stringify({ ...b, custom_fields: '__DEEP__' }).replace('"__DEEP__"', deep(8000)), expect: 'dead-lettered', reason: /nested deeper/ },
    { name: 'a record of 600 KB', json: (b) => JSON.stringify({ ...b, custom_fields: { blob: 'x'.repeat(600_000) } }), expect: 'dead-lettered', reason: /bytes of JSON/ },
  ]
  for (const [i, c] of cases.entries()) {
    await t.test(c.name, async (t) => {
      const poisoned = ids[2 * i]
      const fine = ids[2 * i + 1]
      const base = company.update('employees', poisoned, { job_title: `Poisoned ${i}` })
      company.update('employees', fine, { job_title: `Fine ${i}` })
      const lettersBefore = (await service.stores.deadLetters.list()).length
      simulator.injectFault({ kind: 'raw-record', resource: 'employees', json: c.json(base as Record<string, unknown>) })
      await syncNow(service)
      const letters = await service.stores.deadLetters.list()
      if (c.expect === 'repaired') {
        t.equal(letters.length, lettersBefore, 'no dead letter')
        t.ok(c.check!(await api.user(poisoned)), 'the record was stored with the string repaired')
      } else {
        t.equal(letters.length, lettersBefore + 1, 'one dead letter')
        t.match(letters[0].reason, c.reason!, `with the reason (${letters[0].reason.slice(0, 120)})`)
        t.match(letters[0].key ?? '', /^demo:/, 'keyed to the tenant')
      }
      t.equal((await api.user(fine))?.jobTitle, `Fine ${i}`, 'the rest of the page arrived')
      // The pipeline is not blocked: a later change flows, and the service is ready.
      company.update('employees', fine, { job_title: `Later ${i}` })
      await syncNow(service)
      t.equal((await api.user(fine))?.jobTitle, `Later ${i}`, 'a later change flowed')
      t.equal((await service.readiness()).ready, true, 'ready')
      recordTrial({ fault: `poison record: ${c.name}`, area: 'upstream (Kombo)', mode: 'embedded', times: 1, outcome: c.expect === 'repaired' ? 'repaired at the poller (NUL removed / U+FFFD) and stored; the pipeline flowed on' : 'rejected at the poller, kept in the dead-letter store with the reason; the pipeline flowed on', lost: 'nothing silently', test, passed: t.passing() })
    })
  }
})

t.test('a looping cursor and endless empty pages fail the resource with the reason; other resources and tenants go on', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock, 20)
  const dir = t.testdir({})
  const tenantsFile = join(dir, 'tenants.json')
  writeFileSync(
    tenantsFile,
    JSON.stringify({
      tenants: [
        { id: 'acme', integrationId: 'acme-int', tokenSha256: [sha256('acme-token-0123456789')] },
        { id: 'globex', integrationId: 'globex-int', tokenSha256: [sha256('globex-token-0123456789')] },
      ],
    }),
  )
  const { service } = await startTestService(t, { simulator, clock, env: { TENANTS_FILE: tenantsFile, KOMBO_MAX_PAGES_PER_POLL: '25' } })
  await syncNow(service, 'acme')
  await syncNow(service, 'globex')
  const acme = apiClient(service, 'acme', 'acme-token-0123456789')
  const globex = apiClient(service, 'globex', 'globex-token-0123456789')
  const cases = [
    { name: 'a cursor that loops (the same next again)', kind: 'looping-cursor' as const, reason: /cursor of an earlier page/ },
    { name: 'endless empty pages (a new next each time)', kind: 'endless-pages' as const, reason: /more than 25 pages/ },
  ]
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      simulator.clearFaults()
      simulator.injectFault({ kind: c.kind, integrationId: 'acme-int', resource: 'employees', times: 1000 })
      const requestsBefore = simulator.requestLog.length
      const acmeGroup = simulator.integration('acme-int').list('groups')[0].id as string
      simulator.integration('acme-int').update('groups', acmeGroup, { name: `Renamed during ${c.kind}` })
      const round = await service.pollers.get('acme')!.pollNow()
      const employees = round.outcomes.find((o) => o.resource === 'employees')!
      t.equal(employees.ok, false, 'the employees poll failed')
      t.ok(round.outcomes.filter((o) => o.resource !== 'employees').every((o) => o.ok), 'every other resource of the tenant was polled')
      t.ok(simulator.requestLog.length - requestsBefore <= 25 + 10, `bounded requests (${simulator.requestLog.length - requestsBefore})`)
      const sync = await acme.get('/sync')
      const state = sync.body.data.find((s: { resource: string }) => s.resource === 'employees')
      t.equal(state.failing, true, 'GET /sync: employees failing')
      t.match(state.lastError.message, c.reason, `with the reason (${state.lastError.message})`)
      t.ok(sync.body.data.filter((s: { resource: string }) => s.resource !== 'employees').every((s: { failing: boolean }) => !s.failing), 'the other resources are not failing')
      t.equal(await metricValue(service.url!, /kombo_sync_resource_failing\{tenant="acme",resource="employees"\} (\d+)/), 1, 'kombo_sync_resource_failing{acme, employees} 1')
      await caughtUp(service)
      t.ok((await acme.get('/teams')).body.data.some((g: { name: string }) => g.name === `Renamed during ${c.kind}`), "the tenant's other resources synced")
      const someone = simulator.integration('globex-int').list('employees')[0].id as string
      simulator.integration('globex-int').update('employees', someone, { job_title: `Unaffected by ${c.kind}` })
      await syncNow(service, 'globex')
      t.equal((await globex.user(someone))?.jobTitle, `Unaffected by ${c.kind}`, 'the other tenant kept syncing')
      simulator.clearFaults()
      await service.pollers.get('acme')!.pollNow()
      const recovered = (await acme.get('/sync')).body.data.find((s: { resource: string }) => s.resource === 'employees')
      t.equal(recovered.failing, false, 'once Kombo pages properly again the resource recovers')
      recordTrial({ fault: c.name, area: 'upstream (Kombo)', mode: 'embedded', times: 1, outcome: 'poll stopped (repeated cursor / KOMBO_MAX_PAGES_PER_POLL); resource failing with the reason in GET /sync and kombo_sync_resource_failing; other resources and tenants synced', lost: 'nothing', test, passed: t.passing() })
    })
  }
})

t.test('responses past KOMBO_MAX_RESPONSE_BYTES (plain or gzip-inflated) are aborted and retried', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock, 20)
  const { service } = await startTestService(t, { simulator, clock, env: { KOMBO_MAX_RESPONSE_BYTES: String(1024 * 1024) } })
  await syncNow(service)
  const company = simulator.integration('demo')
  const api = apiClient(service)
  const ids = company.list('employees').map((e) => e.id as string)
  const cases = [
    { name: 'a 20 MB response (limit 1 MB)', fault: { kind: 'oversized' as const, bytes: 20 * 1024 * 1024 } },
    { name: 'a gzip body inflating to 64 MB (limit 1 MB)', fault: { kind: 'gzip-bomb' as const, bytes: 64 * 1024 * 1024 } },
  ]
  for (const [i, c] of cases.entries()) {
    await t.test(c.name, async (t) => {
      company.update('employees', ids[i], { job_title: `After a big answer ${i}` })
      const retries = async () => (await service.metrics.upstreamRetries.get()).values.filter((v) => /larger than/.test(String(v.labels.reason))).reduce((n, v) => n + v.value, 0)
      const before = await retries()
      const rssBefore = process.memoryUsage().rss
      simulator.injectFault({ ...c.fault, resource: 'employees' })
      await syncNow(service)
      t.equal((await retries()) - before, 1, 'counted as an upstream failure and retried once')
      t.equal((await api.user(ids[i]))?.jobTitle, `After a big answer ${i}`, 'the retry brought the change')
      t.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, 'memory stayed bounded')
      recordTrial({ fault: `upstream response too large: ${c.name}`, area: 'upstream (Kombo)', mode: 'embedded', times: 1, outcome: 'aborted past the bound, counted as an upstream error and retried; the change arrived', lost: 'nothing', test, passed: t.passing() })
    })
  }
})

t.test('the full reconcile picks up a change the incremental polls missed, and appends nothing when nothing differs', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock, 30)
  // No overlap, so a record Kombo left out of one incremental page is never read again incrementally.
  const { service } = await startTestService(t, { simulator, clock, env: { KOMBO_WATERMARK_OVERLAP_MS: '0', KOMBO_FULL_RECONCILE_INTERVAL_MS: String(3_600_000) } })
  await syncNow(service)
  const company = simulator.integration('demo')
  const api = apiClient(service)
  const ids = company.list('employees').map((e) => e.id as string)
  const differed = () => metricValue(service.url!, /kombo_sync_reconcile_differed_total\{tenant="demo",resource="employees"\} (\d+)/)
  const firstReconcile = (await service.stores.syncState.get('demo', 'employees'))!.lastFullReconcileAt
  t.ok(firstReconcile, 'the first (full) sync counts as a full listing')

  company.update('employees', ids[0], { job_title: 'Missed by the incremental poll' })
  company.update('employees', ids[1], { job_title: 'Seen' })
  simulator.injectFault({ kind: 'omit-record', resource: 'employees' })
  await syncNow(service)
  t.equal((await api.user(ids[1]))?.jobTitle, 'Seen')
  t.not((await api.user(ids[0]))?.jobTitle, 'Missed by the incremental poll', 'the incremental poll missed the change')
  await syncNow(service)
  t.not((await api.user(ids[0]))?.jobTitle, 'Missed by the incremental poll', 'and the next incremental poll too (stamped before the watermark)')

  clock.advance(2 * 3_600_000)
  await syncNow(service)
  t.equal((await api.user(ids[0]))?.jobTitle, 'Missed by the incremental poll', 'the reconcile brought it')
  t.equal(await differed(), 1, 'kombo_sync_reconcile_differed_total counts the one record that differed')
  const state = (await service.stores.syncState.get('demo', 'employees'))!
  t.ok(Date.parse(state.lastFullReconcileAt!) > Date.parse(firstReconcile!), 'GET /sync: lastFullReconcileAt moved')
  const sync = await api.get('/sync')
  t.ok(sync.body.data.every((s: { lastFullReconcileAt: string | null }) => typeof s.lastFullReconcileAt === 'string'), 'GET /sync shows lastFullReconcileAt per resource')

  const events = (await service.stores.eventStore.readAll({ maxCount: 1_000_000 })).length
  clock.advance(2 * 3_600_000)
  const round = await service.pollers.get('demo')!.pollNow()
  await syncNow(service)
  t.ok(round.outcomes.filter((o) => o.resource === 'employees' || o.resource === 'groups').every((o) => o.ok && o.full), 'employees and groups were reconciled')
  t.equal(round.outcomes.reduce((n, o) => n + (o.ok ? o.records : 0), 0), 0, 'a reconcile over an unchanged company publishes nothing')
  t.equal((await service.stores.eventStore.readAll({ maxCount: 1_000_000 })).length, events, 'and appends no event')
  t.equal(await differed(), 1, 'nothing more counted as differing')
  recordTrial({ fault: 'a change Kombo left out of an incremental page (never re-read: overlap 0)', area: 'upstream (Kombo)', mode: 'embedded', times: 1, outcome: 'picked up by the full reconcile (counted in kombo_sync_reconcile_differed_total); a reconcile over an unchanged company published and appended nothing', lost: 'nothing', test, passed: t.passing() })
})
