// Memory of the `all` process (issue 10, goal 2: ≤ 1 GB at 100k employees): `kombo-sync all` on
// its embedded default, as `npm start` runs it, in a child process of its own, syncing a company
// from a simulator in this process. The rows of the initial-sync benchmark report the bench
// process's peak, which also holds the simulator's whole company; this one is the service alone:
// its VmHWM (the kernel's high-water mark) and VmRSS sampled every second.
import { komboResources } from '../schemas/kombo.ts'
import { startKomboSimulator } from '../simulator/index.ts'
import { startChildService } from '../test/support/child-service.ts'
import { BENCH_TOKEN, benchEnv, sizeLabel, until } from './harness.ts'
import { idleNodePeakKb, memoryOf, usersThroughApi } from './roles.ts'
import { peakRssMb, type ResultRow } from './report.ts'
import { tempDir } from './temp-dir.ts'

const mb = (kb: number) => Math.round(kb / 1024)

/** Answers 200 once the user of `id` is in the views (a cheap check before listing every user). */
async function userVisible(apiUrl: string, id: string): Promise<boolean> {
  const res = await fetch(`${apiUrl}/v1/tenants/demo/users/${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${BENCH_TOKEN}` },
    signal: AbortSignal.timeout(30_000),
  }).catch(() => null)
  await res?.body?.cancel()
  return res?.status === 200
}

/** Peak RSS of `kombo-sync all` (embedded) after the initial sync of each of `sizes` employees. */
export async function benchAllProcessMemory(sizes: number[]): Promise<ResultRow[]> {
  const rows: ResultRow[] = []
  for (const size of sizes) {
    const idleKb = await idleNodePeakKb()
    const simulator = await startKomboSimulator({ port: 0, employees: size, seed: 7, logger: false })
    const data = tempDir('kombo-sync-bench-all-')
    const samples: number[] = []
    let sampler: NodeJS.Timeout | undefined
    try {
      const company = simulator.integration('demo')
      const records = komboResources.reduce((n, r) => n + company.list(r, { includeDeleted: true }).length, 0)
      const employees = company.list('employees', { includeDeleted: true })
      const last = employees[employees.length - 1].id
      const child = await startChildService({ ...benchEnv(simulator.url, data.dir), LOG_LEVEL: 'warn' }, 120_000, 'all')
      try {
        const pid = child.proc.pid
        const atStart = memoryOf(pid)?.rssKb ?? NaN
        sampler = setInterval(() => {
          const m = memoryOf(pid)
          if (m) samples.push(m.rssKb)
        }, 1000)
        const started = performance.now()
        // The last employee listed is among the last projected; only then is every user counted,
        // page by page through the API (at 100k that listing is 500 requests).
        const checkEveryMs = size >= 50_000 ? 2000 : 250
        await until('the last employee to be a user', () => userVisible(child.url, last), 3 * 60 * 60_000, checkEveryMs)
        await until('every user to be listed', async () => (await usersThroughApi(child.url)) === employees.length, 30 * 60_000, checkEveryMs)
        const seconds = (performance.now() - started) / 1000
        await new Promise((r) => setTimeout(r, 3000)) // a few more samples once idle
        const m = memoryOf(pid)
        rows.push({
          benchmark: 'peak RSS, all roles',
          scenario: `kombo-sync all, ${sizeLabel(size)} employees, embedded (its own process, as \`npm start\` runs it)`,
          value: mb(m?.peakKb ?? NaN),
          unit: 'MB VmHWM',
          baseline: { label: 'idle `node --import tsx`, same run', value: mb(idleKb), unit: 'MB VmHWM' },
          peakRssMb: peakRssMb(),
          note:
            `VmRSS at start ${mb(atStart)} MB, highest 1 s sample ${mb(Math.max(...samples))} MB, after the sync ${mb(m?.rssKb ?? NaN)} MB; ` +
            `${records} records, ${employees.length} users listed through its API ${seconds.toFixed(1)} s after it started (includes the listing)`,
        })
      } finally {
        clearInterval(sampler)
        await child.stop()
      }
    } finally {
      await simulator.close()
      data.remove()
    }
  }
  return rows
}
