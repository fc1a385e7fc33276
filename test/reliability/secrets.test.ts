// The Kombo API key and the tenant's API token never appear in logs (debug level, through faults),
// in /metrics, or in API error bodies.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestSimulator, controllableClock } from '../support/e2e-story.ts'
import { startChildService, type ChildService } from '../support/child-service.ts'
import { waitFor } from '../support/wait-for.ts'
import { recordTrial } from '../support/reliability-log.ts'

const KOMBO_KEY = 'kombo-SECRET-key-5f1e0c7a9b'
const TOKEN = 'demo-SECRET-token-3d2c1b0a98'

t.test('secrets stay out of logs, metrics and error bodies, through 500s and a 401', async (t) => {
  const simulator = await startTestSimulator(t, controllableClock(), 15)
  const dataDir = mkdtempSync(join(tmpdir(), 'kombo-sync-secrets-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  simulator.injectFault({ kind: 'status', status: 500, resource: 'employees', times: 2 })
  let child: ChildService | null = await startChildService({
    DATA_DIR: dataDir,
    PORT: '0',
    DEMO_API_TOKEN: TOKEN,
    KOMBO_BASE_URL: simulator.url,
    KOMBO_API_KEY: KOMBO_KEY,
    POLL_INTERVAL_MS: '300',
    LOG_LEVEL: 'debug',
  })
  t.teardown(() => child?.kill9())
  const url = child.url
  const get = async (path: string, token = TOKEN) => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })
    return { status: res.status, text: await res.text() }
  }
  await waitFor('the first sync', async () => JSON.parse((await get('/v1/tenants/demo/users?limit=200')).text).data?.length === 15, 60_000, 200)
  simulator.injectFault({ kind: 'status', status: 401, times: 1000 })
  await waitFor('the tenant to be marked failing', async () => /"failing":true/.test((await get('/v1/tenants/demo/sync')).text), 60_000, 200)

  const bodies = [
    await get('/v1/tenants/demo/users', 'wrong-token-0123456789'),
    await get('/v1/tenants/demo/users?limit=abc'),
    await get('/v1/tenants/demo/users/nobody'),
    await get('/v1/tenants/other/users'),
    await get('/no/such/route'),
    await get('/v1/tenants/demo/sync'),
    await get('/health/ready'),
  ]
  t.same(bodies.map((b) => b.status), [401, 400, 404, 403, 404, 200, 200], 'the error and status answers were produced')
  const metrics = (await get('/metrics')).text
  t.match(metrics, /kombo_sync_upstream_retries_total/, 'metrics rendered')
  t.equal(await child.stop(), 0)
  const output = child.output()
  child = null
  t.ok(output.length > 1000 && /"level":30/.test(output), `the logs were captured (${output.length} bytes)`)
  t.match(output, /401|authentication/i, 'the 401 was logged')

  for (const [name, secret] of [['KOMBO_API_KEY', KOMBO_KEY], ['DEMO_API_TOKEN', TOKEN]] as const) {
    t.notOk(output.includes(secret), `${name} not in stdout/stderr`)
    t.notOk(metrics.includes(secret), `${name} not in /metrics`)
    for (const b of bodies) t.notOk(b.text.includes(secret), `${name} not in a ${b.status} body`)
  }
  recordTrial({
    fault: 'Kombo 500 ×2 then 401 at LOG_LEVEL=debug; API errors 400/401/403/404',
    area: 'secrets',
    mode: 'embedded',
    times: 1,
    outcome: 'logs, /metrics and error bodies scanned for the Kombo API key and the tenant token',
    lost: 'nothing leaked',
    test: 'test/reliability/secrets.test.ts',
    passed: t.passing(),
  })
})
