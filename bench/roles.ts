// Production mode with every role its own process: `kombo-sync poller`, `processor`, `projector`
// and `api` as child processes (test/support/child-service.ts) on the Kafka broker + registry of
// startProductionStack, the EventStoreDB gRPC double (in this process) or PostgreSQL as the event
// store, and a throw-away PostgreSQL database, fed by a simulator in this process. Two benchmarks on it:
// - memory per role: the initial sync of N employees, then each child's peak RSS (VmHWM in
//   /proc/<pid>/status, the kernel's high-water mark) and its VmRSS sampled every second; with
//   PostgreSQL as the event store also the write floor of the rows the sync left (as
//   bench/production-postgres.ts measures it), once the roles have stopped;
// - steady state: changes at a fixed rate on a synced company, and the delay until each shows in
//   the users view (the row GET /users/:id returns), as bench/steady-state.ts does embedded, but
//   with changes overlapping per user (see measureChangeDelays), so 1k employees can take 1,000/s.
import { readFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { randomBytes } from 'node:crypto'
import { startChildService, type ChildService } from '../test/support/child-service.ts'
import { startKomboSimulator, type KomboSimulator } from '../simulator/index.ts'
import { komboResources } from '../schemas/kombo.ts'
import { loadConfig } from '../config/config.ts'
import { openStores, type Stores } from '../runtime/stores.ts'
import { PROCESSOR_GROUP } from '../runtime/service.ts'
import { roleNodeFlags } from '../runtime/roles/heap-limits.ts'
import { VIEWS_CHECKPOINT } from '../projections/projector.ts'
import { unprojectedEvents } from '../projections/tenant-progress.ts'
import { BENCH_TOKEN, benchEnv, sizeLabel, until } from './harness.ts'
import { cpuSecondsOf, eventStoreLabel, machineBusySeconds, productionEnv, PARTITIONS, type BenchEventStore, type ProductionStack } from './production.ts'
import { floorOfCopy, floorRatioNote } from './production-postgres.ts'
import type { WriteFloor } from './write-floor.ts'
import { measureChangeDelays, percentile } from './change-rate.ts'
import { backlogLimitLabel, titlesInView } from './steady-state.ts'
import { tempDir } from './temp-dir.ts'
import { peakRssMb, type ResultRow } from './report.ts'

const ROLES = ['poller', 'processor', 'projector', 'api'] as const
type RoleName = (typeof ROLES)[number]
const PROJECTED = ['employee-', 'team-', 'location-', 'legalEntity-', 'absenceType-', 'absence-']
const mb = (kb: number) => Math.round(kb / 1024)

/** VmHWM (peak) and VmRSS (now) of a process in kB, from /proc/<pid>/status (Linux); null when gone. */
export function memoryOf(pid: number | undefined): { peakKb: number; rssKb: number } | null {
  if (!pid) return null
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
    return { peakKb: kb('VmHWM'), rssKb: kb('VmRSS') }
  } catch {
    return null
  }
}

/** CPU seconds each role process and this process (simulator, EventStoreDB double, watcher) used so far. */
function cpuSeconds(children: Record<RoleName, ChildService>): Record<RoleName | 'bench', number> {
  const own = process.cpuUsage()
  return { ...(Object.fromEntries(ROLES.map((r) => [r, cpuSecondsOf(children[r].proc.pid)])) as Record<RoleName, number>), bench: (own.user + own.system) / 1e6 }
}

/** "poller 1.2, processor 3.4, …": CPU seconds used between two readings. */
const cpuBetween = (before: Record<RoleName | 'bench', number>, after: Record<RoleName | 'bench', number>): string =>
  ([...ROLES, 'bench'] as const).map((k) => `${k === 'bench' ? 'bench process' : k} ${(after[k] - before[k]).toFixed(1)}`).join(', ')

/** VmHWM of an idle `node --import tsx` process: what any role costs before it loads kombo-sync. */
export async function idleNodePeakKb(): Promise<number> {
  const proc = spawn(process.execPath, ['--import', 'tsx', '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  try {
    await new Promise((r) => setTimeout(r, 2000))
    return memoryOf(proc.pid)?.peakKb ?? NaN
  } finally {
    const exited = new Promise((r) => proc.once('exit', r))
    proc.kill('SIGTERM')
    await exited
  }
}

/**
 * The node flags docker-compose.yml launches the role with (its heap cap and V8's growing factor,
 * runtime/roles/heap-limits.ts), on the child's command line; BENCH_CHILD_NODE_OPTIONS stays in its
 * NODE_OPTIONS. BENCH_NO_HEAP_LIMITS=1 leaves them out, to measure a role without them.
 */
function roleFlags(role: RoleName): string[] {
  return process.env.BENCH_NO_HEAP_LIMITS === '1' ? [] : roleNodeFlags(role)
}

interface RolesPipeline {
  simulator: KomboSimulator
  children: Record<RoleName, ChildService>
  /** This process's view of the same stores (sync state, change log lag, views), to watch progress. */
  stores: Stores
  apiUrl: string
  records: number
  /** Employees the simulator holds, deleted included: each becomes one user. */
  users: number
  /** performance.now() of the poller's first request to the simulator (0 until then). */
  firstRequestAt(): number
  /** VmRSS samples (kB) of each child, one a second since start. */
  samples: Record<RoleName, number[]>
  /** The throw-away database of the views (and, on PostgreSQL, of the events). */
  database: string
  /** Stops everything; `beforeDrop` runs once the roles and stores are closed, before the database is dropped. */
  close(beforeDrop?: () => Promise<void>): Promise<void>
}

async function startRolesPipeline(stack: ProductionStack, employees: number, env: Record<string, string> = {}, eventStore: BenchEventStore = 'esdb'): Promise<RolesPipeline> {
  const simulator = await startKomboSimulator({ port: 0, employees, seed: 7, logger: false })
  const company = simulator.integration('demo')
  const records = komboResources.reduce((n, r) => n + company.list(r, { includeDeleted: true }).length, 0)
  const users = company.list('employees', { includeDeleted: true }).length
  const scenario = await productionEnv(stack, eventStore)
  const data = tempDir('kombo-sync-bench-roles-')
  // BENCH_CHILD_NODE_OPTIONS: node flags for every role child (e.g. `--heapsnapshot-signal=SIGUSR2`
  // or a preload that logs process.memoryUsage()), to see what holds a role's memory.
  const nodeOptions: Record<string, string> = process.env.BENCH_CHILD_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_CHILD_NODE_OPTIONS } : {}
  const childEnv = { ...benchEnv(simulator.url, data.dir, scenario.env), LOG_LEVEL: 'warn', ...nodeOptions, ...env }
  let firstRequestAt = 0
  const watcher = setInterval(() => {
    if (!firstRequestAt && simulator.requestLog.length > 0) firstRequestAt = performance.now()
  }, 1)
  const started: ChildService[] = []
  let stores: Stores | null = null
  let sampler: NodeJS.Timeout | undefined
  const close = async (beforeDrop?: () => Promise<void>) => {
    clearInterval(watcher)
    clearInterval(sampler)
    try {
      await Promise.all(started.map((c) => c.stop()))
      await stores?.close()
      await beforeDrop?.()
    } finally {
      await simulator.close()
      await scenario.close()
      data.remove()
    }
  }
  try {
    // Creating a fresh prefix's topics sometimes meets a broker still electing their leaders: a
    // role that exits at start is started once more.
    const start = async (role: RoleName) => {
      const child = await startChildService(childEnv, 120_000, role, roleFlags(role)).catch(async () => {
        await new Promise((r) => setTimeout(r, 2000))
        return startChildService(childEnv, 120_000, role, roleFlags(role))
      })
      started.push(child)
      return child
    }
    const [poller, processor, projector, api] = await Promise.all(ROLES.map(start))
    const children = { poller, processor, projector, api }
    const samples = { poller: [], processor: [], projector: [], api: [] } as Record<RoleName, number[]>
    sampler = setInterval(() => {
      for (const role of ROLES) {
        const m = memoryOf(children[role].proc.pid)
        if (m) samples[role].push(m.rssKb)
      }
    }, 1000)
    stores = await openStores(loadConfig(childEnv, 'api', { demoToken: () => randomBytes(12).toString('hex') }))
    return { simulator, children, stores, apiUrl: api.url, records, users, firstRequestAt: () => firstRequestAt, samples, database: scenario.database, close }
  } catch (err) {
    await close()
    throw err
  }
}

/** Every user, read page by page through the api process; null when a page fails. */
export async function usersThroughApi(apiUrl: string): Promise<number | null> {
  let n = 0
  let cursor: string | null = null
  do {
    const res = await fetch(`${apiUrl}/v1/tenants/demo/users?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
      headers: { authorization: `Bearer ${BENCH_TOKEN}` },
      signal: AbortSignal.timeout(30_000),
    }).catch(() => null)
    if (res?.status !== 200) return null
    const body = (await res.json()) as { data: unknown[]; next: string | null }
    n += body.data.length
    cursor = body.next
  } while (cursor)
  return n
}

/**
 * Waits until the company is synced through the roles: every resource polled to its last page,
 * the change log lag 0, every employee a user, the projector caught up with the event store, and
 * then every user listed through the api process. Returns when each of those was first seen.
 */
async function untilSynced(p: RolesPipeline, everyMs: number): Promise<{ storesMs: number; apiMs: number }> {
  const { stores } = p
  await until(
    'the company to be synced through the role processes',
    async () => {
      for (const r of komboResources) if (!(await stores.syncState.get('demo', r))?.lastSuccessAt) return false
      if ((await stores.changeLog.pending(PROCESSOR_GROUP)) > 0) return false
      if ((await stores.views.counts()).users < p.users) return false
      const after = (await stores.views.checkpoint(VIEWS_CHECKPOINT)) ?? undefined
      return (await stores.eventStore.readAll({ after, maxCount: 1, streamPrefixes: PROJECTED })).length === 0
    },
    3 * 60 * 60_000,
    everyMs,
  )
  const storesAt = performance.now()
  await until('every user to be listed by the api process', async () => (await usersThroughApi(p.apiUrl)) === p.users, 10 * 60_000, 500)
  const apiAt = performance.now()
  return { storesMs: storesAt - p.firstRequestAt(), apiMs: apiAt - p.firstRequestAt() }
}

/**
 * Peak RSS of each role process after the initial sync of each of `sizes` employees, on the
 * EventStoreDB double or (`eventStore` 'postgres') with the events in the views' database; there
 * also the write floor of the rows the sync left, in a copy of that database once the roles stopped.
 */
/** `tenantBacklogLimit`: the roles' TENANT_BACKLOG_LIMIT (default: the service default), to see what the budget costs one big tenant. */
export async function benchRoleMemory(stack: ProductionStack, sizes: number[], eventStore: BenchEventStore = 'esdb', tenantBacklogLimit?: number): Promise<ResultRow[]> {
  const rows: ResultRow[] = []
  const limit: Record<string, string> = tenantBacklogLimit === undefined ? {} : { TENANT_BACKLOG_LIMIT: String(tenantBacklogLimit) }
  for (const size of sizes) {
    const idleKb = await idleNodePeakKb()
    const p = await startRolesPipeline(stack, size, limit, eventStore)
    let floor: WriteFloor | undefined
    const measured: Array<{ role: RoleName; peakKb: number; note: string }> = []
    let synced: { storesMs: number; apiMs: number }
    try {
      const atStart = Object.fromEntries(ROLES.map((r) => [r, memoryOf(p.children[r].proc.pid)?.rssKb ?? NaN])) as Record<RoleName, number>
      const cpuBefore = cpuSeconds(p.children)
      const machineBefore = machineBusySeconds()
      const wallBefore = performance.now()
      synced = await untilSynced(p, size >= 50_000 ? 1000 : 250)
      const cpuAfter = cpuSeconds(p.children)
      const cpu = cpuBetween(cpuBefore, cpuAfter)
      const machine = machineBusySeconds() - machineBefore
      const ours = ([...ROLES, 'bench'] as const).reduce((n, k) => n + cpuAfter[k] - cpuBefore[k], 0)
      const available = (availableParallelism() * (performance.now() - wallBefore)) / 1000
      const machineNote = Number.isFinite(machine)
        ? `; the machine ${machine.toFixed(1)} of ${available.toFixed(1)} CPU s busy (${availableParallelism()} cores), of it ${(machine - ours).toFixed(1)} outside the roles and this process (PostgreSQL, Kafka, registry, anything else running)`
        : ''
      // A few more seconds of samples once idle: the steady value after the sync.
      await new Promise((r) => setTimeout(r, 3000))
      const seconds = synced.apiMs / 1000
      for (const role of ROLES) {
        const m = memoryOf(p.children[role].proc.pid)
        const s = p.samples[role]
        measured.push({
          role,
          peakKb: m?.peakKb ?? NaN,
          note:
            `VmRSS at start ${mb(atStart[role])} MB, highest 1 s sample ${mb(Math.max(...s))} MB, after the sync ${mb(m?.rssKb ?? NaN)} MB; ` +
            `${p.records} records, ${p.users} users listed through the api process ${seconds.toFixed(1)} s after the first Kombo request ` +
            `(stores caught up at ${(synced.storesMs / 1000).toFixed(1)} s), ${Math.round(p.records / seconds).toLocaleString('en-US')} records/s end to end; ` +
            `CPU s over the sync: ${cpu}${machineNote}`,
        })
      }
    } finally {
      // The roles have stopped and nothing else is connected when the database is copied for the floor.
      await p.close(eventStore === 'postgres' ? async () => void (floor = await floorOfCopy(stack, p.database)) : undefined)
    }
    const floorNote = floor ? `; ${floorRatioNote(floor, synced.apiMs)} to the api listing, ${(floor.ms / synced.storesMs).toFixed(2)}× to the stores caught up` : ''
    for (const { role, peakKb, note } of measured) {
      rows.push({
        benchmark: 'peak RSS per role',
        scenario: `kombo-sync ${role}, ${sizeLabel(size)} employees, production (each role its own process, ${PARTITIONS} partitions, ${eventStoreLabel(eventStore)})${backlogLimitLabel(tenantBacklogLimit)}`,
        value: mb(peakKb),
        unit: 'MB VmHWM',
        baseline: { label: 'idle `node --import tsx`, same run', value: mb(idleKb), unit: 'MB VmHWM' },
        peakRssMb: peakRssMb(),
        note: note + floorNote,
      })
    }
  }
  return rows
}

/**
 * The tenant's events after the projector's checkpoint, as the backlog budget counts them
 * (projections/tenant-progress.ts), sampled until stopped: "p50 X, max Y, ≥ 200 in Z % of N samples".
 * (The budget's other part, records the processors have not committed, is counted on Kafka only by
 * the process that published them, the poller child, so this process cannot see it; sampling the
 * group's lag instead, ChangeLog.pending, opens an admin connection and asks every topic's offsets
 * each time, ~1 s per sample on the loaded machine: tried on 2026-12-06 and left out as too heavy
 * for an instrument running beside the roles.)
 */
function sampleUnprojected(stores: Stores, everyMs = 250, cap = 20_000): { stop(): Promise<string> } {
  const count = unprojectedEvents({ store: stores.eventStore, views: stores.views })
  const samples: number[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      samples.push(await count('demo', cap))
      await new Promise((r) => setTimeout(r, everyMs))
    }
  })().catch(() => {
    running = false // stores closed under it (a failed run): the samples so far stand
  })
  return {
    async stop() {
      running = false
      await loop
      const sorted = [...samples].sort((a, b) => a - b)
      const share = (n: number) => Math.round((100 * samples.filter((v) => v >= n).length) / Math.max(1, samples.length))
      return `p50 ${percentile(sorted, 50)}, max ${sorted.at(-1) ?? 0}${sorted.at(-1) === cap ? ' (cap)' : ''}, ≥ 200 in ${share(200)} %, ≥ 1000 in ${share(1000)} % of ${samples.length} samples`
    },
  }
}

/** `seen`, failing at once when a role process has exited (else the drain would wait its full timeout). */
function whileRolesRun<T>(children: Record<RoleName, ChildService>, seen: (ids: string[]) => Promise<T>): (ids: string[]) => Promise<T> {
  return async (ids) => {
    for (const role of ROLES) {
      const { proc } = children[role]
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the ${role} process exited (${proc.exitCode ?? proc.signalCode}) during the steady state; its output ends:\n${children[role].output().slice(-2000)}`)
    }
    return seen(ids)
  }
}

/** Steady state with the role processes: `rates` changes/s on a synced company of `employees`. */
export async function benchProductionSteadyState(
  stack: ProductionStack,
  options: { employees: number; rates: number[]; seconds: number; pollIntervalMs: number; /** TENANT_BACKLOG_LIMIT of the roles (default: the service default). */ tenantBacklogLimit?: number },
): Promise<ResultRow[]> {
  const limit: Record<string, string> = options.tenantBacklogLimit === undefined ? {} : { TENANT_BACKLOG_LIMIT: String(options.tenantBacklogLimit) }
  const p = await startRolesPipeline(stack, options.employees, { POLL_INTERVAL_MS: String(options.pollIntervalMs), ...limit })
  const rows: ResultRow[] = []
  try {
    await untilSynced(p, 250)
    const company = p.simulator.integration('demo')
    const ids = company.list('employees').map((e) => e.id)
    let seq = 0
    for (const rate of options.rates) {
      const cpuBefore = cpuSeconds(p.children)
      const backlog = sampleUnprojected(p.stores)
      const r = await measureChangeDelays({ company, ids, rate, seconds: options.seconds, seen: whileRolesRun(p.children, titlesInView(p.stores.db)), watchEveryMs: 20, drainTimeoutMs: 10 * 60_000, firstSeq: seq, overlapping: true })
      seq = r.nextSeq
      const waiting = await backlog.stop()
      const cpu = cpuBetween(cpuBefore, cpuSeconds(p.children))
      const peaks = ROLES.map((role) => `${role} ${mb(memoryOf(p.children[role].proc.pid)?.peakKb ?? NaN)}`).join(', ')
      rows.push({
        benchmark: 'steady state',
        scenario: `${rate} changes/s asked, ${sizeLabel(options.employees)} employees, production (each role its own process), poll every ${options.pollIntervalMs} ms${backlogLimitLabel(options.tenantBacklogLimit)}`,
        value: percentile(r.delays, 50),
        unit: 'ms p50 delay',
        baseline: { label: 'poll interval', value: options.pollIntervalMs, unit: 'ms' },
        peakRssMb: peakRssMb(),
        note:
          `p95 ${Math.round(percentile(r.delays, 95))} ms, p99 ${Math.round(percentile(r.delays, 99))} ms over ${r.made} changes ` +
          `(${Math.round(r.achievedPerSecond)}/s achieved of ${rate}/s asked, ${options.seconds} s; a user may change again before the last change arrived, which then counts as arrived with the newer title; the last arrived ${(r.drainMs / 1000).toFixed(1)} s after the changes stopped); ` +
          `events waiting for the projector (what the backlog budget adds to the records not processed), sampled every 250 ms: ${waiting}; ` +
          `CPU s until then: ${cpu}; peak RSS MB so far: ${peaks}`,
      })
    }
    return rows
  } finally {
    await p.close()
  }
}
