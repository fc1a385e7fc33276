// Starts what a benchmark measures: a Kombo simulator with a company of a given size and the whole
// service on its embedded default (PGlite in a temp dir), the same composition `npm start` uses.
import { randomBytes } from 'node:crypto'
import { loadConfig } from '../config/config.ts'
import { createLogger } from '../runtime/logger.ts'
import { startService, type RunningService, type Tuning } from '../runtime/service.ts'
import type { Role } from '../config/config.ts'
import { startKomboSimulator, type KomboSimulator } from '../simulator/index.ts'
import { komboResources } from '../schemas/kombo.ts'
import { tempDir } from './temp-dir.ts'

export const BENCH_TOKEN = 'bench-demo-token-0123456789'

export interface BenchPipeline {
  simulator: KomboSimulator
  service: RunningService
  /** Every record of the company (all six resources, deleted ones included): what one full poll fetches. */
  records: number
  /** Employees the simulator holds, deleted included: each becomes one user. */
  employees: number
  close(): Promise<void>
}

/** Processor tuning passed to the service: `untunedProcessor` is the processor before the batch/cache/concurrency change. */
export type ProcessorTuning = Tuning['processor']
export const untunedProcessor: ProcessorTuning = { cacheStreams: 0, concurrency: 1 }
/** The poller before it skipped exact repeats of the watermark-overlap re-read. */
export const repeatingPoller: Tuning['poller'] = { skipRepeats: false }

/** The environment every bench service gets (the simulator's URL, a quiet log, no rate limit). */
export function benchEnv(simulatorUrl: string, dataDir: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    PORT: '0',
    DEMO_API_TOKEN: BENCH_TOKEN,
    KOMBO_BASE_URL: simulatorUrl,
    KOMBO_API_KEY: 'bench-kombo-key',
    KOMBO_INTEGRATION_ID: 'demo',
    POLL_INTERVAL_MS: '600000',
    CLOCK_INTERVAL_MS: '600000',
    LOG_LEVEL: 'silent',
    // A load generator is one client: the API's per-token rate limit would measure only 429s.
    API_RATE_LIMIT_PER_MINUTE: '0',
    ...env,
  }
}

/** One service of the given role in this process. */
export async function startBenchService(env: Record<string, string>, role: Role, processor?: ProcessorTuning, poller?: Tuning['poller'], api?: Tuning['api']): Promise<RunningService> {
  const config = loadConfig(env, role, { demoToken: () => randomBytes(12).toString('hex') })
  return startService(config, { logger: createLogger('silent'), tuning: { processor, poller, api } })
}

export async function startBenchPipeline(options: {
  employees: number
  env?: Record<string, string>
  processor?: ProcessorTuning
  poller?: Tuning['poller']
  api?: Tuning['api']
  /** Called as soon as the simulator exists, before the service starts polling it. */
  onSimulator?: (simulator: KomboSimulator) => void
}): Promise<BenchPipeline> {
  const simulator = await startKomboSimulator({ port: 0, employees: options.employees, seed: 7, logger: false })
  const company = simulator.integration('demo')
  const records = komboResources.reduce((n, r) => n + company.list(r, { includeDeleted: true }).length, 0)
  const employees = company.list('employees', { includeDeleted: true }).length
  options.onSimulator?.(simulator)
  const data = tempDir('kombo-sync-bench-')
  const service = await startBenchService(benchEnv(simulator.url, data.dir, options.env), 'all', options.processor, options.poller, options.api)
  return {
    simulator,
    service,
    records,
    employees,
    async close() {
      await service.stop()
      await simulator.close()
      data.remove()
    },
  }
}

/**
 * Polls `check` until it is true; a generous timeout, never a speed assertion. The bench's checks run
 * in the measured process (counts over the views, on the embedded database's one thread), so a check
 * costing d ms is followed by a pause of at least d × (1 − share) / share ms: the measurement takes at
 * most `share` of the process (5 % by default) however large the views grow. Measured on 2026-12-07:
 * 50 tenants × 2k, a count of the views every 100 ms read 21.9 GB of table pages through PGlite in
 * the 149 s run. The price is resolution: the moment seen is up to that pause late. A check that times
 * each arrival (the change-rate drain) passes `share` 1 to keep the fixed `everyMs`.
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 10, share = 0.05): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const started = performance.now()
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`)
    const took = performance.now() - started
    await new Promise((r) => setTimeout(r, Math.max(everyMs, (took * (1 - share)) / share)))
  }
}

/** The sum of a prom-client counter over all its label sets. */
export async function counterTotal(service: RunningService, name: string): Promise<number> {
  const metric = service.metrics.registry.getSingleMetric(name)
  if (!metric) return 0
  const { values } = await metric.get()
  return values.reduce((n, v) => n + v.value, 0)
}

export const sizeLabel = (n: number): string => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n))
