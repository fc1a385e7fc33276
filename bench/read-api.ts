// Read API: GET one user and GET a page of users at 1, 16 and 64 connections, next to a bare
// Fastify route that returns the same JSON from memory, both measured in the same run. The load
// generator (autocannon's CLI) runs in a child process so it does not share the server's thread.
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import Fastify from 'fastify'
import pg from 'pg'
import { throwawayDatabase } from './production.ts'
import { peakRssMb, type ResultRow } from './report.ts'
import { BENCH_TOKEN, counterTotal, sizeLabel, startBenchPipeline, until, type BenchPipeline } from './harness.ts'
import { VIEWS_CHECKPOINT } from '../projections/projector.ts'

const autocannonCli = join(dirname(createRequire(import.meta.url).resolve('autocannon/package.json')), 'autocannon.js')

export interface LoadResult {
  requestsPerSecond: number
  p50: number
  p99: number
  non2xx: number
}

export function runLoad(url: string, connections: number, seconds: number, headers: Record<string, string> = {}): Promise<LoadResult> {
  const args = [autocannonCli, '-j', '-c', String(connections), '-d', String(seconds)]
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`)
  args.push(url)
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err)
      const r = JSON.parse(stdout) as { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }
      if (r.errors > 0) return reject(new Error(`autocannon saw ${r.errors} errors on ${url}`))
      resolve({ requestsPerSecond: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx })
    })
  })
}

/**
 * Ours and the bare baseline in the order ours, bare, bare, ours, each for half the time: on a
 * shared machine whose load drifts, a linear drift then weighs on both alike (one window each,
 * back to back, gave the later one whatever the load did meanwhile). Rates are the mean of the two
 * windows, latencies the worse of the two.
 */
async function interleaved(url: string, headers: Record<string, string>, bareUrl: string, connections: number, seconds: number): Promise<{ ours: LoadResult; baseline: LoadResult }> {
  if (seconds < 2) {
    // --quick (CI keeps the rows working): one window each.
    const ours = await runLoad(url, connections, seconds, headers)
    return { ours, baseline: await runLoad(bareUrl, connections, seconds) }
  }
  const half = Math.round(seconds / 2)
  const a1 = await runLoad(url, connections, half, headers)
  const b1 = await runLoad(bareUrl, connections, half)
  const b2 = await runLoad(bareUrl, connections, half)
  const a2 = await runLoad(url, connections, half, headers)
  const both = (x: LoadResult, y: LoadResult): LoadResult => ({
    requestsPerSecond: (x.requestsPerSecond + y.requestsPerSecond) / 2,
    p50: Math.max(x.p50, y.p50),
    p99: Math.max(x.p99, y.p99),
    non2xx: x.non2xx + y.non2xx,
  })
  return { ours: both(a1, a2), baseline: both(b1, b2) }
}

type ApiTuning = NonNullable<Parameters<typeof startBenchPipeline>[0]['api']>

interface Variant {
  /** e.g. "embedded", "PostgreSQL" */
  store: string
  env: Record<string, string>
  api?: ApiTuning
  label: string
  routes: Array<'user' | 'users' | 'teams' | 'team' | 'locations' | 'location'>
}

const allRoutes: Variant['routes'] = ['user', 'users', 'teams', 'team', 'locations', 'location']

/**
 * Embedded (PGlite) and PostgreSQL (a throw-away database on `databaseUrl`; left out when it cannot
 * be reached), each with the API as it is and, for the two user routes, as it was before the cache
 * of serialised view answers (`viewCache: false`): before/after in the same run.
 */
export async function benchReadApi(options: { employees: number; connections: number[]; seconds: number; databaseUrl?: string }): Promise<ResultRow[]> {
  const rows: ResultRow[] = []
  const variants = (store: string, env: Record<string, string>): Variant[] => [
    { store, env, label: '', routes: allRoutes },
    { store, env, api: { viewCache: false }, label: ' (before: no view cache)', routes: ['user', 'users'] },
  ]
  for (const v of variants('embedded', {})) rows.push(...(await benchVariant(v, options)))
  if (options.databaseUrl) {
    let db: Awaited<ReturnType<typeof throwawayDatabase>> | null = null
    try {
      db = await throwawayDatabase(options.databaseUrl)
    } catch (err) {
      process.stderr.write(`bench read-api: PostgreSQL rows left out (${(err as Error).message})\n`)
    }
    if (db) {
      try {
        for (const v of variants('PostgreSQL', { DATABASE_URL: db.url })) {
          // Each variant syncs into the same database afresh: empty it first.
          rows.push(...(await benchVariant(v, options, db.url)))
        }
      } finally {
        await db.drop()
      }
    }
  }
  return rows
}

const PROJECTED = ['employee-', 'team-', 'location-', 'legalEntity-', 'absenceType-', 'absence-']

/**
 * The initial sync done and the projector idle: every record processed, every user visible, and
 * nothing appended that the views have not applied (absences come last; a load window that
 * overlapped their projection would measure the projector too).
 */
export async function untilSynced(pipeline: BenchPipeline): Promise<void> {
  const { service } = pipeline
  await until(
    'the initial sync',
    async () => {
      if ((await counterTotal(service, 'kombo_sync_records_processed_total')) < pipeline.records) return false
      const counts = await service.stores.views.counts()
      if (counts.users < pipeline.employees || counts.teams === 0 || counts.locations === 0) return false
      const after = (await service.stores.views.checkpoint(VIEWS_CHECKPOINT)) ?? undefined
      return (await service.stores.eventStore.readAll({ after, maxCount: 1, streamPrefixes: PROJECTED })).length === 0
    },
    30 * 60_000,
    50,
  )
}

async function emptyViews(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    if (rows.length) await client.query(`DROP TABLE ${rows.map((r) => `"${r.tablename}"`).join(', ')} CASCADE`)
  } finally {
    await client.end()
  }
}

async function benchVariant(variant: Variant, options: { employees: number; connections: number[]; seconds: number }, databaseUrl?: string): Promise<ResultRow[]> {
  if (databaseUrl) await emptyViews(databaseUrl)
  const pipeline = await startBenchPipeline({ employees: options.employees, env: variant.env, api: variant.api })
  const bare = Fastify({ logger: false })
  try {
    const { service } = pipeline
    await untilSynced(pipeline)
    const auth = { authorization: `Bearer ${BENCH_TOKEN}` }
    const base = `${service.url}/v1/tenants/demo`
    const json = async (path: string) => {
      const res = await fetch(`${base}${path}`, { headers: auth })
      if (!res.ok) throw new Error(`bench read-api: ${path} answered ${res.status}`)
      return res.json() as Promise<{ data: Array<{ externalId: string }> } & Record<string, unknown>>
    }
    const page = await json('/users?limit=50')
    const someone = page.data[Math.floor(page.data.length / 2)].externalId
    const teams = await json('/teams?limit=50')
    const locations = await json('/locations?limit=50')
    const team = teams.data[0].externalId
    const location = locations.data[0].externalId
    const routes = {
      user: { name: 'GET user by id', path: `/users/${encodeURIComponent(someone)}` },
      users: { name: 'GET users page (50)', path: '/users?limit=50' },
      teams: { name: 'GET teams page (50)', path: '/teams?limit=50' },
      team: { name: 'GET team by id (with members)', path: `/teams/${encodeURIComponent(team)}` },
      locations: { name: 'GET locations page (50)', path: '/locations?limit=50' },
      location: { name: 'GET location by id', path: `/locations/${encodeURIComponent(location)}` },
    }

    // The same JSON, from memory: what Fastify alone costs on this machine right now.
    const bodies = new Map<string, unknown>()
    for (const key of variant.routes) bodies.set(routes[key].path, await json(routes[key].path))
    bare.get('/*', async (request) => bodies.get(request.url))
    const bareBase = await bare.listen({ host: '127.0.0.1', port: 0 })

    const rows: ResultRow[] = []
    for (const key of variant.routes) {
      const route = routes[key]
      for (const c of options.connections) {
        const { ours, baseline } = await interleaved(`${base}${route.path}`, auth, `${bareBase}${route.path}`, c, options.seconds)
        if (ours.non2xx > 0) throw new Error(`${route.name}: ${ours.non2xx} non-2xx answers`)
        rows.push({
          benchmark: 'read API',
          scenario: `${route.name}, ${c} conn, ${sizeLabel(pipeline.employees)} users, ${variant.store}${variant.label}`,
          value: ours.requestsPerSecond,
          unit: 'req/s',
          baseline: { label: 'bare Fastify, same JSON from memory', value: baseline.requestsPerSecond, unit: 'req/s' },
          peakRssMb: peakRssMb(),
          note: `p50/p99 ${ours.p50}/${ours.p99} ms (bare ${baseline.p50}/${baseline.p99} ms)`,
        })
      }
    }
    return rows
  } finally {
    await bare.close()
    await pipeline.close()
  }
}
