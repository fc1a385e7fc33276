// The read API under sustained load while the pipeline syncs (issue 12, "Load"): `kombo-sync all`
// as a child process (the embedded default, or `--postgres`: a throw-away PostgreSQL database,
// dropped at the end) syncs a simulated company that keeps changing, while autocannon in this
// process drives the read API (users list, search, one user, teams, sync status) for the whole run.
// The generator (and the simulator) live in this process, the service in its own: the load's CPU
// does not run on the service's event loop (on a 2-core machine they still share the cores).
//
// Reported: requests, latency p50/p90/p99/max, errors and timeouts, every status seen, the
// service's RSS sampled every 10 s (start, after warm-up, max, end, and whether it is flat), the
// machine's load average, and whether the answers were right: a 404 for an employee the service
// never listed (a new hire the sync has not reached yet) is a right answer, counted apart as
// "not yet synced"; a 404 for a user the service already listed is wrong. Sampled users must carry
// the simulator's email and name (the churn never changes them) and, after the load, every user's
// job title and email once the sync caught up with the stopped company.
//
//   nice -n 10 npx tsx scripts/soak-load.ts --minutes 10 [--postgres] [--connections 8] [--employees 2000] [--report FILE]
//
// Not a test (a timed figure belongs in a report, never an assertion); its figures are only
// comparable with a run on the same machine at the same time.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createRequire } from 'node:module'
import { startKomboSimulator } from '../simulator/index.ts'
import { startChildService } from '../test/support/child-service.ts'
import { testPostgresUrl } from '../test/support/postgres.ts'

// autocannon ships no types: the few fields used here. `context` is per connection (one request in flight).
type Context = { path?: string; userId?: string }
type Request = { method?: string; path?: string; headers?: Record<string, string> }
type Histogram = { p50: number; p90: number; p99: number; max: number; average: number; total: number }
const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string
  connections: number
  duration: number
  headers: Record<string, string>
  requests: Array<{ setupRequest: (req: Request, context: Context) => Request; onResponse: (status: number, body: string, context: Context) => void }>
}) => Promise<{ requests: Histogram; latency: Histogram; non2xx: number; errors: number; timeouts: number; statusCodeStats: Record<string, { count: number }> }>

const TOKEN = 'load-demo-token-0123456789'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024)
const load = () => loadavg().map((l) => Math.round(l * 100) / 100)

/** RSS is flat when the value at the end is within this fraction of the value after the warm-up. */
const RSS_FLAT_WITHIN = 0.2
/** The warm-up: the first fifth of the run, at most 2 minutes (the initial sync fills the caches). */
const warmUpMs = (minutes: number) => Math.min(120_000, (minutes * 60_000) / 5)

/**
 * Which 404s are right. The service's users seen in any answer (lists, single users) so far: a
 * 404 for one of them is wrong (a user it had served vanished); for any other id it is the sync
 * not having reached that new hire yet.
 */
class Answers {
  readonly listed = new Set<string>()
  notYetSynced = 0
  readonly lost: string[] = []
  onUsers(body: string): void {
    try {
      const parsed = JSON.parse(body) as { data?: unknown }
      const users = Array.isArray(parsed.data) ? parsed.data : [parsed.data ?? parsed]
      for (const u of users as Array<{ externalId?: string }>) if (u?.externalId) this.listed.add(u.externalId)
    } catch {
      // not JSON (an error page): counted by its status
    }
  }
  on404(id: string): void {
    if (this.listed.has(id)) this.lost.push(id)
    else this.notYetSynced += 1
  }
}

type Company = ReturnType<Awaited<ReturnType<typeof startKomboSimulator>>['integration']>

/** Every user of the tenant, all pages. */
async function allUsers(base: string, headers: Record<string, string>): Promise<Array<Record<string, unknown>>> {
  const users: Array<Record<string, unknown>> = []
  let cursor: string | null = null
  do {
    const page = (await (await fetch(`${base}/users?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers })).json()) as { data: Array<Record<string, unknown>>; next: string | null }
    users.push(...page.data)
    cursor = page.next
  } while (cursor)
  return users
}

/** After the load: the sync catches up with the stopped company; every user must then be right. */
async function finalCheck(base: string, headers: Record<string, string>, company: Company) {
  const deadline = Date.now() + 300_000
  for (;;) {
    const users = await allUsers(base, headers)
    const truth = new Map(company.list('employees', { includeDeleted: true }).map((e) => [e.id as string, e]))
    const wrong = users.filter((u) => truth.get(u.externalId as string)?.job_title !== u.jobTitle || truth.get(u.externalId as string)?.work_email !== u.email)
    const final = { users: users.length, employees: truth.size, wrong: wrong.map((u) => String(u.externalId)) }
    if ((final.users === final.employees && wrong.length === 0) || Date.now() > deadline) return final
    await sleep(1000)
  }
}

/** Users sampled every second during the load: fields the churn never changes must be Kombo's. */
function startChecker(base: string, headers: Record<string, string>, company: Company, answers: Answers) {
  const sampled = { checked: 0, wrong: [] as string[], notYetSynced: 0, lost: 0 }
  let checking = true
  const done = (async () => {
    while (checking) {
      await sleep(1000)
      const all = company.list('employees').map((e) => e.id as string)
      const id = all[Math.floor(Math.random() * all.length)]
      const res = await fetch(`${base}/users/${encodeURIComponent(id)}`, { headers }).catch(() => null)
      if (res?.status === 404) {
        if (answers.listed.has(id)) sampled.lost += 1
        else sampled.notYetSynced += 1
      }
      if (res?.status !== 200) continue
      const user = (await res.json()) as { data?: Record<string, unknown> } & Record<string, unknown>
      const u = (user.data ?? user) as Record<string, unknown>
      const truth = company.get('employees', id)!
      sampled.checked += 1
      if (u.externalId !== id || u.email !== truth.work_email || u.firstName !== truth.first_name) sampled.wrong.push(`${id}: ${JSON.stringify(u).slice(0, 200)}`)
    }
  })()
  return {
    sampled,
    async stop() {
      checking = false
      await done
    },
  }
}

/** The service's RSS every 10 s, with the time of each sample. */
function startRssSampler(pid: number) {
  const t0 = Date.now()
  const samples: Array<{ atMs: number; mb: number }> = [{ atMs: 0, mb: rssMb(pid) }]
  const timer = setInterval(() => samples.push({ atMs: Date.now() - t0, mb: rssMb(pid) }), 10_000)
  return {
    stop(minutes: number) {
      clearInterval(timer)
      samples.push({ atMs: Date.now() - t0, mb: rssMb(pid) })
      const warm = samples.find((s) => s.atMs >= warmUpMs(minutes)) ?? samples[0]
      const end = samples.at(-1)!.mb
      return {
        start: samples[0].mb,
        afterWarmUp: warm.mb,
        afterWarmUpAtS: Math.round(warm.atMs / 1000),
        max: Math.max(...samples.map((s) => s.mb)),
        end,
        samples: samples.length,
        flat: Math.abs(end - warm.mb) <= RSS_FLAT_WITHIN * warm.mb,
        flatMeans: `the RSS at the end is within ${RSS_FLAT_WITHIN * 100}% of the RSS after the warm-up (the first fifth of the run, at most 2 minutes)`,
        everyTenSeconds: samples.map((s) => s.mb),
      }
    },
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      connections: { type: 'string', default: '8' },
      employees: { type: 'string', default: '2000' },
      churn: { type: 'string', default: '10' },
      postgres: { type: 'boolean', default: false },
      report: { type: 'string' },
    },
  })
  const minutes = Number(values.minutes)
  const teardowns: Array<() => unknown> = []
  const teardown = { teardown: (fn: () => unknown) => teardowns.unshift(fn) }
  try {
    const databaseUrl = values.postgres ? await testPostgresUrl(teardown) : process.env.DATABASE_URL
    const simulator = await startKomboSimulator({ port: 0, employees: Number(values.employees), seed: 12, logger: false })
    teardown.teardown(() => simulator.close())
    const company = simulator.integration('demo')
    const dataDir = mkdtempSync(join(tmpdir(), 'kombo-sync-load-'))
    teardown.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
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
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    }, 180_000)
    teardown.teardown(() => child.kill9()) // before the database is dropped (teardowns run last-in first)
    const report = await runLoad({ minutes, connections: Number(values.connections), churn: Number(values.churn), database: databaseUrl ? 'postgres' : 'embedded' }, simulator, company, child)
    if (values.report) writeFileSync(values.report, JSON.stringify(report, null, 2) + '\n')
    console.log(JSON.stringify(report, null, 2))
    process.exitCode = report.ok ? 0 : 1
  } finally {
    for (const fn of teardowns) await Promise.resolve(fn()).catch((err) => console.error('teardown failed', err))
  }
}

async function runLoad(
  run: { minutes: number; connections: number; churn: number; database: string },
  simulator: Awaited<ReturnType<typeof startKomboSimulator>>,
  company: Company,
  child: Awaited<ReturnType<typeof startChildService>>,
) {
  const headers = { authorization: `Bearer ${TOKEN}` }
  const base = `${child.url}/v1/tenants/demo`
  const loadAtStart = load()
  simulator.startChurn(run.churn)
  const rss = startRssSampler(child.proc.pid!)
  const answers = new Answers()
  const checker = startChecker(base, headers, company, answers)
  const paths = ['/users?limit=50', '/users?limit=20&q=an', '/users?status=active&limit=100', '/teams?limit=50', '/sync']
  let n = 0
  const result = await autocannon({
    url: base,
    connections: run.connections,
    duration: run.minutes * 60,
    headers,
    requests: [
      {
        setupRequest: (req, context) => {
          n += 1
          const all = company.list('employees')
          context.userId = n % 3 === 0 ? (all[n % all.length].id as string) : undefined
          context.path = context.userId ? `/users/${encodeURIComponent(context.userId)}` : paths[n % paths.length]
          return { ...req, path: `/v1/tenants/demo${context.path}` }
        },
        onResponse: (status, body, context) => {
          if (status === 404 && context.userId) answers.on404(context.userId)
          else if (status === 200 && context.path?.startsWith('/users')) answers.onUsers(body)
        },
      },
    ],
  })
  const loadAtEnd = load()
  await checker.stop()
  const rssMbs = rss.stop(run.minutes)
  simulator.stopChurn()
  const final = await finalCheck(base, headers, company)
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]))
  // Every non-2xx but the right 404s (new hires not synced yet) is an error.
  const wrongStatuses = result.non2xx - answers.notYetSynced
  const { sampled } = checker
  const noError = result.errors === 0 && result.timeouts === 0 && wrongStatuses === 0 && answers.lost.length === 0
  const rightAnswers = sampled.wrong.length === 0 && sampled.lost === 0 && final.wrong.length === 0 && final.users === final.employees
  return {
    minutes: run.minutes,
    connections: run.connections,
    churnPerSecond: run.churn,
    database: run.database,
    generator: 'autocannon in the script process; the service a child process of its own',
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    statuses,
    non2xx: result.non2xx,
    notYetSynced404: answers.notYetSynced,
    wrongNon2xx: wrongStatuses,
    lost404: { count: answers.lost.length, examples: answers.lost.slice(0, 5) },
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    rssMb: rssMbs,
    machineLoad: { atStart: loadAtStart, atEnd: loadAtEnd, means: '1, 5 and 15 minute load averages (uptime) of the 2-core machine' },
    sampledAnswers: { checked: sampled.checked, wrong: sampled.wrong.length, notYetSynced: sampled.notYetSynced, lost: sampled.lost, examples: sampled.wrong.slice(0, 5) },
    finalUsers: { users: final.users, employees: final.employees, wrong: final.wrong.length, examples: final.wrong.slice(0, 5) },
    at: new Date().toISOString(),
    ok: noError && rightAnswers && rssMbs.flat,
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(2)
})
