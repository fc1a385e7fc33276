// `kombo-sync all` on PostgreSQL (DATABASE_URL) while the server terminates its connections again
// and again mid-sync (pg_terminate_backend): the process must not crash (it did, 5 of 5 runs:
// "Unhandled 'error' event … ECONNRESET" from a checked-out client), the failed batches are
// retried, and the views end equal to Kombo.
import t from 'tap'
import pg from 'pg'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startKomboSimulator } from '../../simulator/index.ts'
import { testPostgresUrl } from '../support/postgres.ts'
import { startChildService } from '../support/child-service.ts'
import { waitFor } from '../support/wait-for.ts'
import { recordTrial } from '../support/reliability-log.ts'

const test = 'test/reliability/postgres-connections.test.ts'
const TOKEN = 'pg-conn-test-token-0123456789'

t.test('terminated PostgreSQL backends mid-sync in `all` mode: no crash, batches retried, nothing lost', async (t) => {
  const simulator = await startKomboSimulator({ port: 0, employees: 400, seed: 5, logger: false })
  t.teardown(() => simulator.close())
  const databaseUrl = await testPostgresUrl(t)
  const dataDir = mkdtempSync(join(tmpdir(), 'kombo-sync-pgconn-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const child = await startChildService({
    DATA_DIR: dataDir,
    PORT: '0',
    DEMO_API_TOKEN: TOKEN,
    KOMBO_BASE_URL: simulator.url,
    KOMBO_API_KEY: 'pg-conn-kombo-key',
    KOMBO_INTEGRATION_ID: 'demo',
    POLL_INTERVAL_MS: '200',
    CLOCK_INTERVAL_MS: '600000',
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
  }, 120_000)
  t.teardown(() => child.kill9())
  const company = simulator.integration('demo')
  const dbName = new URL(databaseUrl).pathname.slice(1)
  const admin = new pg.Client({ connectionString: databaseUrl.replace(/\/[^/]*$/, '/postgres') })
  await admin.connect()
  t.teardown(() => admin.end())

  let terminated = 0
  let unready = 0
  const ids = company.list('employees').map((e) => e.id as string)
  for (let round = 0; round < 12; round++) {
    company.update('employees', ids[round], { job_title: `Changed in round ${round}` })
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()) x', [dbName])
    terminated += rows[0].n
    const ready = await fetch(`${child.url}/health/ready`).catch(() => null)
    if (ready && ready.status === 503) unready += 1
    await new Promise((r) => setTimeout(r, 250))
    if (!t.equal(child.proc.exitCode, null, `round ${round}: the process is still running`)) {
      t.comment(`the process's last output:\n${child.output().slice(-4000)}`)
      return
    }
  }
  t.ok(terminated > 0, `backends were terminated (${terminated})`)

  const api = async (path: string) => (await fetch(`${child.url}/v1/tenants/demo${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as Promise<any>
  const expected = new Map(company.list('employees', { includeDeleted: true }).map((e) => [e.id as string, e.job_title]))
  await waitFor('the views to equal Kombo after the terminations', async () => {
    const users: any[] = []
    let cursor: string | null = null
    do {
      const page: any = await api(`/users?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).catch(() => ({ data: [], next: null }))
      users.push(...(page.data ?? []))
      cursor = page.next ?? null
    } while (cursor)
    return users.length === expected.size && users.every((u) => u.jobTitle === expected.get(u.externalId))
  }, 120_000, 500)
  t.pass('every user equals Kombo, the changes made during the terminations included')
  await waitFor('ready again', async () => (await fetch(`${child.url}/health/ready`)).status === 200, 30_000, 200)
  t.equal(child.proc.exitCode, null, 'the process never crashed')
  t.notMatch(child.output(), /Unhandled 'error' event/, 'no unhandled error event')
  recordTrial({ fault: `pg_terminate_backend on every connection, 12 times during a sync (${terminated} backends)`, area: 'store fault', mode: 'embedded', times: 12, outcome: `no crash; failed batches retried; /health/ready 503 seen ${unready} time(s) right after a termination; views equal Kombo`, lost: 'nothing (every user equals Kombo)', test, passed: t.passing() })
})
