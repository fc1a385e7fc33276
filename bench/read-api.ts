// Read API: GET one user and GET a page of users at 1, 16 and 64 connections, next to a bare
// Fastify route that returns the same JSON from memory, both measured in the same run. The load
// generator (autocannon's CLI) runs in a child process so it does not share the server's thread.
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import Fastify from 'fastify'
import { peakRssMb, type ResultRow } from './report.ts'
import { BENCH_TOKEN, sizeLabel, startBenchPipeline, until } from './harness.ts'

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

export async function benchReadApi(options: { employees: number; connections: number[]; seconds: number }): Promise<ResultRow[]> {
  const pipeline = await startBenchPipeline({ employees: options.employees })
  const bare = Fastify({ logger: false })
  try {
    const { service } = pipeline
    await until('the initial sync', async () => (await service.stores.views.counts()).users >= pipeline.employees, 30 * 60_000, 50)
    const auth = { authorization: `Bearer ${BENCH_TOKEN}` }
    const base = `${service.url}/v1/tenants/demo`
    const page = (await (await fetch(`${base}/users?limit=50`, { headers: auth })).json()) as { data: Array<{ externalId: string }> }
    const someone = page.data[Math.floor(page.data.length / 2)]
    const one = await (await fetch(`${base}/users/${someone.externalId}`, { headers: auth })).json()

    // The same JSON, from memory: what Fastify alone costs on this machine right now.
    bare.get('/users/:id', async () => one)
    bare.get('/users', async () => page)
    const bareBase = await bare.listen({ host: '127.0.0.1', port: 0 })

    const rows: ResultRow[] = []
    const routes = [
      { name: 'GET user by id', path: `/users/${someone.externalId}` },
      { name: 'GET users page (50)', path: '/users?limit=50' },
    ]
    for (const route of routes) {
      for (const c of options.connections) {
        const ours = await runLoad(`${base}${route.path}`, c, options.seconds, auth)
        const baseline = await runLoad(`${bareBase}${route.path}`, c, options.seconds)
        if (ours.non2xx > 0) throw new Error(`${route.name}: ${ours.non2xx} non-2xx answers`)
        rows.push({
          benchmark: 'read API',
          scenario: `${route.name}, ${c} conn, ${sizeLabel(pipeline.employees)} users`,
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
