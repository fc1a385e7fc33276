// Upstream (Kombo) faults end to end on the embedded pipeline: each must end in the right place —
// retried until the data is right, dead-lettered with a reason, or the tenant marked failing in the
// sync status and the metrics while another tenant keeps syncing.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256 } from '../../config/config.ts'
import type { SimulatorFault } from '../../simulator/faults.ts'
import { startTestSimulator, startTestService, syncNow, caughtUp, apiClient, controllableClock, canonicalDump } from '../support/e2e-story.ts'
import { recordTrial } from '../support/reliability-log.ts'

const test = 'test/reliability/upstream-faults.test.ts'

t.test('transient Kombo faults are retried and end in the right data', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock, 40)
  const { service } = await startTestService(t, { simulator, clock, env: { KOMBO_TIMEOUT_MS: '1000' } })
  await syncNow(service)
  const company = simulator.integration('demo')
  const api = apiClient(service)
  const employees = company.list('employees').map((e) => e.id as string)

  const cases: Array<{ name: string; faults: SimulatorFault[] }> = [
    { name: 'Kombo 429 with Retry-After: 1', faults: [{ kind: 'status', status: 429, retryAfterSeconds: 1, resource: 'employees' }] },
    { name: 'Kombo 429 without Retry-After (twice)', faults: [{ kind: 'status', status: 429, resource: 'employees', times: 2 }] },
    {
      name: 'a 5xx burst (500, 502, 503)',
      faults: [
        { kind: 'status', status: 500, resource: 'employees' },
        { kind: 'status', status: 502, resource: 'employees' },
        { kind: 'status', status: 503, resource: 'employees' },
      ],
    },
    { name: 'a response slower than the client timeout (1.5 s against 1 s)', faults: [{ kind: 'slow', delayMs: 1500, resource: 'employees' }] },
    { name: 'a truncated JSON body', faults: [{ kind: 'truncated', resource: 'employees' }] },
    { name: 'a non-JSON (HTML) body', faults: [{ kind: 'not-json', resource: 'employees' }] },
  ]
  for (const [i, c] of cases.entries()) {
    await t.test(c.name, async (t) => {
      const id = employees[i]
      company.update('employees', id, { job_title: `Retried title ${i}` })
      const requestsBefore = simulator.requestLog.length
      const retriesBefore = (await service.metrics.upstreamRetries.get()).values.reduce((n, v) => n + v.value, 0)
      for (const f of c.faults) simulator.injectFault(f)
      await syncNow(service)
      const retries = (await service.metrics.upstreamRetries.get()).values.reduce((n, v) => n + v.value, 0) - retriesBefore
      t.equal(retries, c.faults.reduce((n, f) => n + (f.times ?? 1), 0), 'each faulty answer was retried once')
      t.ok(simulator.requestLog.length - requestsBefore > 6, 'the poll went on after the retries')
      t.equal((await api.user(id))?.jobTitle, `Retried title ${i}`, 'the change arrived')
      const status = await api.get('/sync')
      const employeesState = status.body.data.find((s: { resource: string }) => s.resource === 'employees')
      t.equal(employeesState.failing, false, 'the resource is not marked failing')
      recordTrial({ fault: c.name, area: 'upstream (Kombo)', mode: 'embedded', times: c.faults.reduce((n, f) => n + (f.times ?? 1), 0), outcome: 'retried; the change arrived', lost: 'nothing', test, passed: t.passing() })
    })
  }

  await t.test('schema-invalid records are dead-lettered with a reason; the rest of the page flows', async (t) => {
    const invalid: Array<{ name: string; patch: Record<string, unknown>; reason: RegExp }> = [
      { name: 'a wrong type (job_title: 12345)', patch: { job_title: 12345 }, reason: /job_title/ },
      { name: 'a missing id (id: null)', patch: { id: null }, reason: /record invalid-[0-9a-f]{32}/ },
      { name: 'an impossible date (start_date: 2024-02-30)', patch: { start_date: '2024-02-30' }, reason: /start_date/ },
      { name: 'an unreadable changed_at ("yesterday")', patch: { changed_at: 'yesterday' }, reason: /changed_at/ },
    ]
    for (const [i, bad] of invalid.entries()) {
      const before = (await service.stores.deadLetters.list()).length
      // Two changes, so the page holds the broken record and a good one.
      company.update('employees', employees[10 + 2 * i], { job_title: `Broken ${i}` })
      company.update('employees', employees[11 + 2 * i], { job_title: `Fine ${i}` })
      simulator.injectFault({ kind: 'invalid-record', resource: 'employees', patch: bad.patch })
      await syncNow(service)
      const letters = await service.stores.deadLetters.list()
      t.equal(letters.length, before + 1, `${bad.name}: one dead letter`)
      t.match(letters[0].reason, bad.reason, `${bad.name}: the reason names the field (${letters[0].reason.split('\n')[0]}…)`)
      t.match(letters[0].key ?? '', /^demo:/, 'the dead letter carries the tenant key')
      t.equal((await api.user(employees[11 + 2 * i]))?.jobTitle, `Fine ${i}`, `${bad.name}: the good record of the same page arrived`)
      recordTrial({ fault: `schema-invalid record: ${bad.name}`, area: 'upstream (Kombo)', mode: 'embedded', times: 1, outcome: 'dead-lettered with the reason; the rest of the page flowed', lost: 'nothing silently (the record is in the dead-letter store)', test, passed: t.passing() })
    }
    // The broken answers were one-offs: the next polls (overlap re-read) bring the valid versions.
    await syncNow(service)
    const users = await api.allUsers()
    const expected = new Map(company.list('employees', { includeDeleted: true }).map((e) => [e.id as string, e.job_title]))
    t.ok(users.every((u) => u.jobTitle === expected.get(u.externalId)), 'after the faults, every user matches Kombo')
  })
})

t.test('an integration that starts answering 401 marks its tenant failing; the other tenant keeps syncing', async (t) => {
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
  const { service } = await startTestService(t, { simulator, clock, env: { TENANTS_FILE: tenantsFile } })
  await syncNow(service, 'acme')
  await syncNow(service, 'globex')
  const acme = apiClient(service, 'acme', 'acme-token-0123456789')
  const globex = apiClient(service, 'globex', 'globex-token-0123456789')
  t.equal((await acme.allUsers()).length, 20)
  t.equal((await globex.allUsers()).length, 20)

  simulator.injectFault({ kind: 'status', status: 401, integrationId: 'acme-int', times: 100 })
  const round = await service.pollers.get('acme')!.pollNow()
  t.ok(round.outcomes.some((o) => !o.ok && o.error.name === 'KomboAuthError'), 'the round ends on a KomboAuthError')
  t.equal(service.pollers.get('acme')!.stoppedBecause?.name, 'TenantPollingStoppedError', 'acme polling stops (no retry loop against a 401)')

  const status = await acme.get('/sync')
  t.equal(status.status, 200)
  t.ok(status.body.data.length === 6 && status.body.data.every((s: { failing: boolean }) => s.failing), 'GET /sync shows every acme resource failing')
  t.match(JSON.stringify(status.body), /401|authentication|credentials/i, 'with the reason')
  const metrics = await (await fetch(`${service.url}/metrics`)).text()
  t.match(metrics, /kombo_sync_tenant_failing\{tenant="acme"\} 1/, '/metrics: kombo_sync_tenant_failing{tenant="acme"} 1')
  t.notMatch(metrics, /kombo_sync_tenant_failing\{tenant="globex"\} 1/, '/metrics: globex is not failing')

  const someone = simulator.integration('globex-int').list('employees')[0].id as string
  simulator.integration('globex-int').update('employees', someone, { job_title: 'Still syncing' })
  await syncNow(service, 'globex')
  t.equal((await globex.user(someone))?.jobTitle, 'Still syncing', 'globex keeps syncing')
  const globexStatus = await globex.get('/sync')
  t.ok(globexStatus.body.data.every((s: { failing: boolean }) => !s.failing), 'globex is not failing')
  recordTrial({ fault: 'an integration starts answering 401 (one of two tenants)', area: 'upstream (Kombo)', mode: 'embedded', times: 1, outcome: 'tenant marked failing in GET /sync and kombo_sync_tenant_failing; the other tenant kept syncing', lost: 'nothing (the other tenant unaffected)', test, passed: t.passing() })
})
