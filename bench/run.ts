// `npm run bench [-- --quick | --full] [--only initial-sync,kombo-latency,all-memory,production,scaling,read-api,rebuild,steady-state,role-memory,production-steady-state,change-log,projector-shards,fairness,soak] [--sizes 1000,10000] [--soak-minutes 10] [--tenant-backlog-limit 200] [--event-store esdb|postgres] [--write | --no-write]`
// Runs the benchmarks one after another in this process, prints a table and (by default, not with
// --quick) writes it into docs/benchmarks.md. See docs/benchmarks.md for what each one measures.
// The chaos soak (bench/soak.ts, ~15 minutes) runs with --full or when --only names it, never in
// the default or --quick plans. --event-store: where role-memory's roles keep their events, the
// EventStoreDB double (default) or PostgreSQL beside the views; the other benchmarks keep their own.
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { benchInitialSync, benchKomboLatencySync } from './initial-sync.ts'
import { repeatingPoller, untunedProcessor } from './harness.ts'
import { benchProductionSync, benchScaling, startProductionStack, type ProductionStack } from './production.ts'
import { benchProductionPostgresSync } from './production-postgres.ts'
import { benchReadApi } from './read-api.ts'
import { benchRebuild } from './rebuild.ts'
import { benchChangeLog } from './change-log.ts'
import { benchSteadyState } from './steady-state.ts'
import { benchProductionSteadyState, benchRoleMemory } from './roles.ts'
import { benchSoak } from './soak.ts'
import { benchAllProcessMemory } from './all-memory.ts'
import { benchProjectorShards } from './projector-shards.ts'
import { benchFairness } from './fairness.ts'
import { machineFacts, markdownSection, printTable, writeMarkdownSection, type ResultRow } from './report.ts'

const names = ['initial-sync', 'kombo-latency', 'all-memory', 'production', 'scaling', 'read-api', 'rebuild', 'steady-state', 'role-memory', 'production-steady-state', 'change-log', 'projector-shards', 'fairness', 'soak'] as const
type Name = (typeof names)[number]

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    only: { type: 'string' },
    sizes: { type: 'string' },
    'soak-minutes': { type: 'string' },
    // TENANT_BACKLOG_LIMIT of the steady-state and role-memory rows; unset: the service default.
    'tenant-backlog-limit': { type: 'string' },
    'event-store': { type: 'string', default: 'esdb' },
    write: { type: 'boolean' },
    'no-write': { type: 'boolean', default: false },
  },
  allowPositionals: false,
})

const mode = values.quick ? 'quick' : values.full ? 'full' : 'default'
const plan = {
  // --quick only keeps the benchmarks working (CI): small sizes, one connection count; production
  // mode only for the initial-sync rows of 300 employees (on the double and on PostgreSQL against
  // its write floor, goal 1), since starting Kafka and the registry alone takes ~15 s.
  quick: { sync: [300], syncBefore: [] as number[], production: [300], productionBefore: [] as number[], scaling: null as number | null, apiEmployees: 300, connections: [16], seconds: 1, rebuild: [10_000], changeLog: [10_000], rates: [10], steadyBefore: [] as number[], steadySeconds: 2, roleMemory: [] as number[], allMemory: [300], productionRates: [] as number[], soakMinutes: null as number | null, projectorShards: { tenants: 4, employees: 50, shards: [1, 2] }, fairness: { big: 1_000, small: 50, tenants: 3, employees: 200, seconds: 3 }, komboLatency: { employees: 300, delayMs: 50 } },
  default: { sync: [1_000, 10_000], syncBefore: [1_000], production: [1_000, 10_000], productionBefore: [1_000, 10_000], scaling: 10_000, apiEmployees: 1_000, connections: [16, 64], seconds: 5, rebuild: [100_000], changeLog: [1_000_000], rates: [10, 100, 1_000], steadyBefore: [100], steadySeconds: 15, roleMemory: [10_000], allMemory: [10_000], productionRates: [10, 100, 1_000], soakMinutes: 10, projectorShards: { tenants: 16, employees: 500, shards: [1, 2, 4, 1] }, fairness: { big: 10_000, small: 100, tenants: 10, employees: 1_000, seconds: 20 }, komboLatency: { employees: 10_000, delayMs: 300 } },
  full: { sync: [1_000, 10_000, 100_000], syncBefore: [1_000, 10_000], production: [1_000, 10_000, 100_000], productionBefore: [1_000, 10_000], scaling: 10_000, apiEmployees: 10_000, connections: [1, 16, 64], seconds: 10, rebuild: [1_000_000], changeLog: [1_000_000], rates: [10, 100, 1_000], steadyBefore: [100], steadySeconds: 30, roleMemory: [100_000], allMemory: [100_000], productionRates: [10, 100, 1_000], soakMinutes: 10, projectorShards: { tenants: 64, employees: 500, shards: [1, 2, 4, 1] }, fairness: { big: 100_000, small: 100, tenants: 50, employees: 2_000, seconds: 60 }, komboLatency: { employees: 10_000, delayMs: 300 } },
}[mode]
const sizes = values.sizes ? values.sizes.split(',').map((s) => Number(s.trim())) : plan.sync
if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--sizes takes positive integers, e.g. --sizes 1000,10000`)
const only = values.only ? (values.only.split(',').map((s) => s.trim()) as Name[]) : [...names]
for (const n of only) if (!names.includes(n)) throw new Error(`--only: unknown benchmark "${n}"; choose from ${names.join(', ')}`)
// The soak only when asked for by name, or with --full (its 10 minutes of faults are no default).
const soakMinutes = plan.soakMinutes !== null && (mode === 'full' || values.only?.split(',').some((n) => n.trim() === 'soak')) ? Number(values['soak-minutes'] ?? plan.soakMinutes) : null
if (soakMinutes !== null && !(soakMinutes > 0)) throw new Error(`--soak-minutes takes a positive number, e.g. --soak-minutes 10`)
const tenantBacklogLimit = values['tenant-backlog-limit'] === undefined ? undefined : Number(values['tenant-backlog-limit'])
if (tenantBacklogLimit !== undefined && !(Number.isInteger(tenantBacklogLimit) && tenantBacklogLimit >= 0)) throw new Error(`--tenant-backlog-limit takes an integer ≥ 0, e.g. --tenant-backlog-limit 200`)
const eventStore = values['event-store']
if (eventStore !== 'esdb' && eventStore !== 'postgres') throw new Error(`--event-store takes esdb or postgres (got "${eventStore}")`)
const write = values['no-write'] ? false : (values.write ?? mode !== 'quick')

/** The PostgreSQL server (an admin connection) of every row that needs one. */
const benchDatabaseUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const startedAt = new Date()
const started = performance.now()
const rows: ResultRow[] = []
const run = async (name: Name, fn: () => Promise<ResultRow[]>) => {
  if (!only.includes(name)) return
  process.stderr.write(`bench: ${name} …\n`)
  const t = performance.now()
  rows.push(...(await fn()))
  process.stderr.write(`bench: ${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s\n`)
}

await run('initial-sync', async () => [
  ...(await benchInitialSync(sizes.filter((n) => plan.syncBefore.includes(n)), 'embedded (before: no stream-state cache, one stream decided at a time)', untunedProcessor)),
  ...(await benchInitialSync(sizes, 'embedded')),
])
await run('kombo-latency', () => benchKomboLatencySync(plan.komboLatency.employees, plan.komboLatency.delayMs))
// The `all` process on its own (goal 2: ≤ 1 GB at 100k), without the simulator the rows above carry.
await run('all-memory', () => benchAllProcessMemory(values.sizes ? sizes : plan.allMemory))
// Production mode needs Kafka + the registry (fetched and started here) and PostgreSQL.
const wantsProduction =
  (only.includes('production') && plan.production.length > 0) ||
  (only.includes('scaling') && plan.scaling !== null) ||
  (only.includes('role-memory') && plan.roleMemory.length > 0) ||
  (only.includes('production-steady-state') && plan.productionRates.length > 0)
let stack: ProductionStack | null = null
const skippedProduction: string[] = []
if (wantsProduction) {
  try {
    stack = await startProductionStack(benchDatabaseUrl)
  } catch (err) {
    skippedProduction.push(`Production mode and processor scaling: the stack did not start (${(err as Error).message.split('\n')[0]}).`)
  }
}
try {
  if (stack) {
    const s = stack
    const productionSizes = values.sizes ? sizes : plan.production
    // On the EventStoreDB double (before/after rows), then with PostgreSQL as the event store against its write floor.
    await run('production', async () => [
      ...(await benchProductionSync(s, productionSizes, productionSizes.filter((n) => plan.productionBefore.includes(n)))),
      ...(await benchProductionPostgresSync(s, productionSizes)),
    ])
    if (plan.scaling !== null) await run('scaling', () => benchScaling(s, plan.scaling!, [1, 2, 4]))
    if (plan.roleMemory.length > 0) await run('role-memory', () => benchRoleMemory(s, values.sizes ? sizes : plan.roleMemory, eventStore, tenantBacklogLimit))
    if (plan.productionRates.length > 0) await run('production-steady-state', () => benchProductionSteadyState(s, { employees: 1_000, rates: plan.productionRates, seconds: plan.steadySeconds, pollIntervalMs: 500, tenantBacklogLimit }))
  }
} finally {
  await stack?.stop()
}
await run('read-api', () =>
  benchReadApi({
    employees: plan.apiEmployees,
    connections: plan.connections,
    seconds: plan.seconds,
    // PostgreSQL rows too, but not in --quick (CI keeps the embedded rows working).
    databaseUrl: mode === 'quick' ? undefined : benchDatabaseUrl,
  }),
)
// On PostgreSQL too, also in --quick (10k events take seconds): CI keeps that row working.
await run('rebuild', () => benchRebuild(plan.rebuild, { databaseUrl: benchDatabaseUrl }))
await run('change-log', () => benchChangeLog(plan.changeLog, benchDatabaseUrl))
await run('steady-state', async () => [
  ...(plan.steadyBefore.length > 0
    ? await benchSteadyState({ employees: Math.min(1_000, plan.apiEmployees), rates: plan.steadyBefore, seconds: plan.steadySeconds, pollIntervalMs: 500, poller: { tuning: repeatingPoller, label: 'before: overlap re-read published again' }, tenantBacklogLimit })
    : []),
  ...(await benchSteadyState({ employees: Math.min(1_000, plan.apiEmployees), rates: plan.rates, seconds: plan.steadySeconds, pollIntervalMs: 500, tenantBacklogLimit })),
])

// Last: it starts its own broker, registry and database, and is the longest by far.
// N real projector processes on PostgreSQL (goal 7); views digest checked against one projector.
await run('projector-shards', () =>
  benchProjectorShards({
    adminUrl: benchDatabaseUrl,
    tenants: plan.projectorShards.tenants,
    employeesPerTenant: plan.projectorShards.employees,
    shards: plan.projectorShards.shards,
  }),
)
// A small tenant's changes while a big tenant's initial sync runs, budget on and off (goal 5);
// beyond --quick also on Kafka + registry + PostgreSQL (its own stack): the head-of-line rows on the
// EventStoreDB double, and the many tenants synced at once with the events in PostgreSQL.
await run('fairness', async () => [
  ...(await benchFairness(plan.fairness)),
  ...(mode === 'quick' ? [] : await benchFairness({ ...plan.fairness, production: 1, tenants: 0 })),
  ...(mode === 'quick' ? [] : await benchFairness({ ...plan.fairness, production: 1, postgresEvents: 1, big: 0, compare: 0 })),
])
if (soakMinutes !== null) await run('soak', () => benchSoak({ minutes: soakMinutes }))

printTable(rows)
const seconds = (performance.now() - started) / 1000
process.stderr.write(`bench: finished in ${seconds.toFixed(1)} s\n`)

if (write) {
  const skipped = [
    ...skippedProduction,
    ...(mode === 'quick' ? ['Production mode and processor scaling: left out of --quick (starting Kafka and the registry alone takes ~15 s).'] : []),
    ...(soakMinutes === null ? ['The chaos soak: only with --full or `--only soak` (10 minutes of faults).'] : []),
    ...(only.length < names.length ? [`Benchmarks left out with --only: ${names.filter((n) => !only.includes(n)).join(', ')}.`] : []),
  ]
  const argv = process.argv.slice(2).join(' ')
  const section = markdownSection(rows, { command: `npm run bench${argv ? ` -- ${argv}` : ''}`, startedAt, seconds, machine: machineFacts(), skipped })
  const path = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url))
  writeMarkdownSection(path, section, '# Benchmarks\n')
  process.stderr.write(`bench: results written to ${path}\n`)
}
