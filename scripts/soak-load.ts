// The read API under sustained load while the pipeline syncs (issue 12, "Load"): `kombo-sync all`
// (the embedded default; DATABASE_URL=... for PostgreSQL) as a child process syncs a simulated
// company that keeps changing, while autocannon drives the read API (users list, search, one user,
// teams, sync status) for the whole run. Reported: requests, non-2xx and socket errors, latency
// percentiles, the process's RSS sampled every 10 s (first, max, last), and whether the answers
// were right: sampled users during the run (their email and name, which the churn never changes,
// must equal the simulator's) and, after the load, every user's job title and email once the sync
// has caught up with the stopped company.
//
//   nice -n 10 npx tsx scripts/soak-load.ts --minutes 10 [--connections 8] [--employees 2000] [--report FILE]
//
// Not a test (a timed figure belongs in a report, never an assertion); its figures are only
// comparable with a run on the same machine at the same time.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createRequire } from 'node:module'
import { startKomboSimulator } from '../simulator/index.ts'
import { startChildService } from '../test/support/child-service.ts'

// autocannon ships no types: the few fields used here.
type Request = { method?: string; path?: string; headers?: Record<string, string> }
type Histogram = { p50: number; p90: number; p99: number; max: number; average: number; total: number }
const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string
  connections: number
  duration: number
  headers: Record<string, string>
  requests: Array<{ setupRequest: (req: Request) => Request }>
}) => Promise<{ requests: Histogram; latency: Histogram; non2xx: number; errors: number; timeouts: number }>

const TOKEN = 'load-demo-token-0123456789'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024)

async function main() {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      connections: { type: 'string', default: '8' },
      employees: { type: 'string', default: '2000' },
      churn: { type: 'string', default: '10' },
      report: { type: 'string' },
    },
  })
  const minutes = Number(values.minutes)
  const simulator = await startKomboSimulator({ port: 0, employees: Number(values.employees), seed: 12, logger: false })
  const company = simulator.integration('demo')
  const dataDir = mkdtempSync(join(tmpdir(), 'kombo-sync-load-'))
  const child = await startChildService({
    DATA_DIR: dataDir,
    PORT: '0',
    DEMO_API_TOKEN: TOKEN,
    KOMBO_BASE_URL: simulator.url,
    KOMBO_API_KEY: 'load-kombo-key',
    KOMBO_INTEGRATION_ID: 'demo',
    POLL_INTERVAL_MS: '1000',
    LOG_LEVEL: 'warn',
    API_RATE_LIMIT_PER_MINUTE: '0', // the load is one client; the limiter would answer 429 by design
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  }, 180_000)
  const headers = { authorization: `Bearer ${TOKEN}` }
  const base = `${child.url}/v1/tenants/demo`
  try {
    simulator.startChurn(Number(values.churn))
    const ids = () => company.list('employees').map((e) => e.id as string)
    const rss: number[] = [rssMb(child.proc.pid!)]
    const sampler = setInterval(() => rss.push(rssMb(child.proc.pid!)), 10_000)
    // Answers stay right while the sync writes: users sampled every second, fields the churn never changes.
    const sampled = { checked: 0, wrong: [] as string[], absent: 0 }
    let checking = true
    const checker = (async () => {
      while (checking) {
        await sleep(1000)
        const all = ids()
        const id = all[Math.floor(Math.random() * all.length)]
        const res = await fetch(`${base}/users/${encodeURIComponent(id)}`, { headers }).catch(() => null)
        if (res?.status === 404) sampled.absent += 1 // not synced yet (a new hire, or the initial sync)
        if (res?.status !== 200) continue
        const user = (await res.json()) as { data?: Record<string, unknown> } & Record<string, unknown>
        const u = (user.data ?? user) as Record<string, unknown>
        const truth = company.get('employees', id)!
        sampled.checked += 1
        if (u.externalId !== id || u.email !== truth.work_email || u.firstName !== truth.first_name) sampled.wrong.push(`${id}: ${JSON.stringify(u).slice(0, 200)}`)
      }
    })()
    const paths = ['/users?limit=50', '/users?limit=20&q=an', '/users?status=active&limit=100', '/teams?limit=50', '/sync']
    let n = 0
    const result = await autocannon({
      url: base,
      connections: Number(values.connections),
      duration: minutes * 60,
      headers,
      requests: [
        {
          setupRequest: (req) => {
            n += 1
            const all = ids()
            const path = n % 3 === 0 ? `/users/${encodeURIComponent(all[n % all.length])}` : paths[n % paths.length]
            return { ...req, path: `/v1/tenants/demo${path}` }
          },
        },
      ],
    })
    checking = false
    await checker
    clearInterval(sampler)
    rss.push(rssMb(child.proc.pid!))
    simulator.stopChurn()

    // After the load: the sync catches up with the stopped company; every user must then be right.
    const deadline = Date.now() + 300_000
    let final = { users: 0, employees: 0, wrong: [] as string[] }
    for (;;) {
      const users: Array<Record<string, unknown>> = []
      let cursor: string | null = null
      do {
        const page = (await (await fetch(`${base}/users?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers })).json()) as { data: Array<Record<string, unknown>>; next: string | null }
        users.push(...page.data)
        cursor = page.next
      } while (cursor)
      const truth = new Map(company.list('employees', { includeDeleted: true }).map((e) => [e.id as string, e]))
      const wrong = users.filter((u) => truth.get(u.externalId as string)?.job_title !== u.jobTitle || truth.get(u.externalId as string)?.work_email !== u.email)
      final = { users: users.length, employees: truth.size, wrong: wrong.map((u) => String(u.externalId)) }
      if ((final.users === final.employees && wrong.length === 0) || Date.now() > deadline) break
      await sleep(1000)
    }
    const report = {
      minutes,
      connections: Number(values.connections),
      churnPerSecond: Number(values.churn),
      database: process.env.DATABASE_URL ? 'postgres' : 'embedded',
      requests: result.requests.total,
      requestsPerSecond: result.requests.average,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      rssMb: { first: rss[0], max: Math.max(...rss), last: rss.at(-1), samples: rss.length },
      sampledAnswers: { checked: sampled.checked, wrong: sampled.wrong.length, notYetSynced: sampled.absent, examples: sampled.wrong.slice(0, 5) },
      finalUsers: { users: final.users, employees: final.employees, wrong: final.wrong.length, examples: final.wrong.slice(0, 5) },
      at: new Date().toISOString(),
    }
    const ok = report.non2xx === 0 && report.errors === 0 && report.timeouts === 0 && report.sampledAnswers.wrong === 0 && final.wrong.length === 0 && final.users === final.employees
    if (values.report) writeFileSync(values.report, JSON.stringify({ ...report, ok }, null, 2) + '\n')
    console.log(JSON.stringify({ ...report, ok }, null, 2))
    process.exitCode = ok ? 0 : 1
  } finally {
    await child.kill9()
    await simulator.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(2)
})
