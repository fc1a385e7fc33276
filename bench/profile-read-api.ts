// Where a read API request's time goes: the read-api bench's setup (the whole service, `all` role,
// over a synced company), then each chosen route under autocannon next to bare Fastify, and — with
// --profile DIR — a CPU profile of this process over the API's load window only (the inspector's
// profiler, the same data `node --cpu-prof` writes, without the initial sync in it).
//
//   npx tsx bench/profile-read-api.ts [--store embedded|postgres] [--routes user,users] [--conn 16,64]
//       [--seconds 5] [--employees 1000] [--profile /tmp/prof] [--no-cache]
//
// A tool for the engineer, not a bench row: `npm run bench -- --only read-api` is the record.
import { writeFileSync, mkdirSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { throwawayDatabase } from './production.ts'
import { runLoad, untilSynced } from './read-api.ts'
import { BENCH_TOKEN, startBenchPipeline } from './harness.ts'

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'embedded' },
    routes: { type: 'string', default: 'user,users' },
    conn: { type: 'string', default: '16,64' },
    seconds: { type: 'string', default: '5' },
    employees: { type: 'string', default: '1000' },
    profile: { type: 'string' },
    'no-cache': { type: 'boolean', default: false },
    'count-queries': { type: 'boolean', default: false },
  },
})

// --count-queries: every statement of the load window by its text (what the cache did not answer).
const statements = new Map<string, number>()
let counting = false
if (values['count-queries']) {
  for (const proto of [PGlite.prototype, pg.Pool.prototype, pg.Client.prototype] as Array<{ query: (...a: unknown[]) => unknown }>) {
    const original = proto.query
    proto.query = function (this: unknown, ...args: unknown[]) {
      if (counting) {
        const text = String(typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text).replace(/\s+/g, ' ').slice(0, 90)
        statements.set(text, (statements.get(text) ?? 0) + 1)
      }
      return original.apply(this, args)
    }
  }
}
const db = values.store === 'postgres' ? await throwawayDatabase(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres') : null
const pipeline = await startBenchPipeline({
  employees: Number(values.employees),
  env: db ? { DATABASE_URL: db.url } : {},
  api: values['no-cache'] ? { viewCache: false } : undefined,
})
const bare = Fastify({ logger: false })
try {
  const { service } = pipeline
  await untilSynced(pipeline)
  const auth = { authorization: `Bearer ${BENCH_TOKEN}` }
  const base = `${service.url}/v1/tenants/demo`
  const json = async (path: string) => (await (await fetch(`${base}${path}`, { headers: auth })).json()) as { data: Array<{ externalId: string }> }
  const users = await json('/users?limit=50')
  const teams = await json('/teams?limit=50')
  const locations = await json('/locations?limit=50')
  const paths: Record<string, string> = {
    user: `/users/${encodeURIComponent(users.data[25].externalId)}`,
    users: '/users?limit=50',
    teams: '/teams?limit=50',
    team: `/teams/${encodeURIComponent(teams.data[0].externalId)}`,
    locations: '/locations?limit=50',
    location: `/locations/${encodeURIComponent(locations.data[0].externalId)}`,
  }
  const routes = values.routes.split(',')
  const bodies = new Map<string, unknown>()
  for (const r of routes) bodies.set(paths[r], await json(paths[r]))
  bare.get('/*', async (request) => bodies.get(request.url))
  const bareBase = await bare.listen({ host: '127.0.0.1', port: 0 })
  const session = new Session()
  session.connect()
  if (values.profile) {
    mkdirSync(values.profile, { recursive: true })
    await session.post('Profiler.enable')
  }
  for (const r of routes) {
    for (const c of values.conn.split(',').map(Number)) {
      if (values.profile) await session.post('Profiler.start')
      statements.clear()
      counting = true
      const ours = await runLoad(`${base}${paths[r]}`, c, Number(values.seconds), auth)
      counting = false
      for (const [text, n] of [...statements].sort((a, b) => b[1] - a[1]).slice(0, 12)) process.stdout.write(`  ${n}× ${text}\n`)
      if (values.profile) {
        const { profile } = await session.post('Profiler.stop')
        writeFileSync(join(values.profile, `${values.store}-${r}-${c}.cpuprofile`), JSON.stringify(profile))
      }
      if (values.profile) await session.post('Profiler.start')
      const b = await runLoad(`${bareBase}${paths[r]}`, c, Number(values.seconds))
      if (values.profile) {
        const { profile } = await session.post('Profiler.stop')
        writeFileSync(join(values.profile, `${values.store}-${r}-${c}-bare.cpuprofile`), JSON.stringify(profile))
      }
      const ratio = (ours.requestsPerSecond / b.requestsPerSecond).toFixed(2)
      process.stdout.write(`${values.store} ${r} ${c} conn: ${Math.round(ours.requestsPerSecond)} req/s vs bare ${Math.round(b.requestsPerSecond)} = ${ratio}x  p50/p99 ${ours.p50}/${ours.p99} (bare ${b.p50}/${b.p99}) non2xx ${ours.non2xx}\n`)
    }
  }
  session.disconnect()
} finally {
  await bare.close()
  await pipeline.close()
  await db?.drop()
}
