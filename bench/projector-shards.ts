// Projectors sharded by tenant (PROJECTOR_SHARD=i/N), as real processes: one PostgreSQL event store
// filled with several tenants' first imports (projector-shards-fill.ts), then for each N a copy of
// it made before any projection (CREATE DATABASE … TEMPLATE), N `kombo-sync projector` processes
// started on the copy, and the time until every shard's checkpoint reached the store's last event.
// Each shard's read is filtered by tenant in the store (ReadAllOptions.tenantShard, since 2cafe0e);
// before that every shard read the whole log and dropped other tenants' events.
// Every N must leave exactly the views of N=1 (views digest), or the bench fails.
// Run alone: `nice -n 10 npx tsx bench/projector-shards.ts --tenants 16 --employees 500 --shards 1,2,4`.
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { startChildService, type ChildService } from '../test/support/child-service.ts'
import { VIEWS_CHECKPOINT } from '../projections/projection.ts'
import { ownsTenant, shardCheckpointName } from '../projections/shard.ts'
import { viewsDigest } from '../projections/views-digest.ts'
import { openPostgresDatabase } from '../sql/postgres.ts'
import { cpuSecondsOf } from './production.ts'
import { memoryOf } from './roles.ts'
import { fillStore, tableSizes, tenantIds, type Filled } from './projector-shards-fill.ts'
import { peakRssMb, printTable, type ResultRow } from './report.ts'

export interface ProjectorShardsOptions {
  /** A PostgreSQL server's admin URL (databases are created and dropped there). */
  adminUrl: string
  tenants: number
  employeesPerTenant: number
  /** Projector process counts; the first is the baseline (1). */
  shards: number[]
  /** Give up on one N after this long (default 15 minutes). */
  timeoutMs?: number
}

interface Database {
  name: string
  url: string
}

async function admin<T>(adminUrl: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl })
  await c.connect()
  try {
    return await work(c)
  } finally {
    await c.end()
  }
}

async function createDatabase(adminUrl: string, template?: string): Promise<Database> {
  const name = `kombo_sync_bench_shards_${randomBytes(5).toString('hex')}`
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`))
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return { name, url: url.toString() }
}

const dropDatabase = (adminUrl: string, db: Database) => admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`))

interface ShardRun {
  /** performance.now() when its checkpoint first appeared (first batch committed) and when it reached the end. */
  firstAt: number
  doneAt: number
  cpuAtFirst: number
  cpuAtDone: number
  peakRssMb: number
}

interface Run {
  count: number
  shards: ShardRun[]
  spawnedAt: number
  /** CPU seconds of the PostgreSQL backends serving the copy (each backend's last reading). */
  postgresCpu: number
  digest: string
}

/** N projector processes on `db` until each shard's checkpoint is at `last`; then stopped. */
async function runShards(db: Database, count: number, last: bigint, timeoutMs: number): Promise<Run> {
  const names = Array.from({ length: count }, (_, index) => shardCheckpointName(VIEWS_CHECKPOINT, { index, count }))
  const env = (index: number) => ({
    DATABASE_URL: db.url,
    PROJECTOR_SHARD: `${index}/${count}`,
    LOG_LEVEL: 'warn',
    // No clock tick during the run: it would append events and change what is projected.
    CLOCK_INTERVAL_MS: String(24 * 3600 * 1000),
    DEMO_API_TOKEN: 'bench-projector-shards-token',
    // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where a shard's time goes.
    ...(process.env.BENCH_CHILD_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_CHILD_NODE_OPTIONS } : {}),
  })
  const spawnedAt = performance.now()
  const starting = Array.from({ length: count }, (_, index) => startChildService(env(index), 120_000, 'projector'))
  // Handled now: a child failing while the watcher connects must not end this process unhandled
  // (the throw-away databases would be left behind); Promise.all below still reports it.
  for (const p of starting) p.catch(() => undefined)
  const children: ChildService[] = []
  const watcher = new pg.Client({ connectionString: db.url })
  await watcher.connect()
  try {
    children.push(...(await Promise.all(starting)))
    const shards: Array<Partial<ShardRun>> = names.map(() => ({}))
    // Sampled every 10th poll and kept per backend, so a pooled connection closed during the run
    // still counts up to its last sample (its last moments are missed: a lower bound).
    const backendCpu = new Map<number, number>()
    const sampleBackends = async () => {
      const { rows } = await watcher.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')
      for (const { pid } of rows) backendCpu.set(pid, Math.max(backendCpu.get(pid) ?? 0, cpuSecondsOf(pid)))
    }
    for (let poll = 0; shards.some((s) => s.doneAt === undefined); poll++) {
      if (poll % 10 === 0) await sampleBackends()
      if (performance.now() - spawnedAt > timeoutMs) throw new Error(`projector-shards: ${count} projector(s) did not reach position ${last} in ${timeoutMs} ms:\n${children.map((c) => c.output().slice(-2000)).join('\n---\n')}`)
      const { rows } = await watcher.query<{ name: string; position: string }>('SELECT name, position FROM projection_checkpoints WHERE name = ANY($1)', [names])
      const now = performance.now()
      for (const row of rows) {
        const i = names.indexOf(row.name)
        const s = shards[i]
        const pid = children[i].proc.pid
        if (s.firstAt === undefined) Object.assign(s, { firstAt: now, cpuAtFirst: cpuSecondsOf(pid) })
        if (s.doneAt === undefined && BigInt(row.position) >= last) Object.assign(s, { doneAt: now, cpuAtDone: cpuSecondsOf(pid), peakRssMb: Math.round((memoryOf(pid)?.peakKb ?? NaN) / 1024) })
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    await sampleBackends()
    const postgresCpu = [...backendCpu.values()].reduce((sum, cpu) => sum + cpu, 0)
    const { rows } = await watcher.query<{ n: string }>('SELECT count(*) AS n FROM projection_dead_letters')
    if (Number(rows[0].n) > 0) throw new Error(`projector-shards: ${rows[0].n} event(s) skipped by the projectors with N=${count}`)
    return { count, shards: shards as ShardRun[], spawnedAt, postgresCpu, digest: '' }
  } finally {
    await Promise.all([...children.map((c) => c.stop()), ...starting.map((p) => p.then((c) => c.stop(), () => undefined))])
    await watcher.end()
  }
}

const mb = (bytes: number) => (bytes / 1024 ** 2).toFixed(1)

function shardRow(run: Run, base: Run | undefined, filled: Filled, plan: ProjectorShardsOptions, digestNote: string): ResultRow {
  const first = Math.min(...run.shards.map((s) => s.firstAt))
  const done = Math.max(...run.shards.map((s) => s.doneAt))
  const rate = (filled.events / (done - first)) * 1000
  const tenants = tenantIds(plan.tenants)
  const owned = Array.from({ length: run.count }, (_, index) => tenants.filter((t) => ownsTenant({ index, count: run.count }, t)).length)
  const projecting = run.shards.reduce((sum, s) => sum + s.cpuAtDone - s.cpuAtFirst, 0)
  const baseRate = base ? (filled.events / (Math.max(...base.shards.map((s) => s.doneAt)) - Math.min(...base.shards.map((s) => s.firstAt)))) * 1000 : undefined
  return {
    benchmark: 'projector shards',
    scenario: `${run.count} projector process(es), ${plan.tenants} tenants × ${plan.employeesPerTenant} employees, ${filled.events} events, PostgreSQL`,
    value: rate,
    unit: 'events/s',
    ...(baseRate !== undefined && run !== base ? { baseline: { label: `${base!.count} projector`, value: baseRate, unit: 'events/s' } } : {}),
    peakRssMb: Math.max(...run.shards.map((s) => s.peakRssMb)),
    note:
      `from the first shard's first checkpoint to the last shard at the end: ${((done - first) / 1000).toFixed(1)} s (spawn to end ${((done - run.spawnedAt) / 1000).toFixed(1)} s); ` +
      `tenants per shard ${owned.join('/')}; CPU s per process while projecting ${run.shards.map((s) => (s.cpuAtDone - s.cpuAtFirst).toFixed(1)).join('/')}; ` +
      `PostgreSQL backends ≥ ${run.postgresCpu.toFixed(1)} CPU s; together ${(((projecting + run.postgresCpu) / filled.events) * 1e6).toFixed(0)} CPU µs per event of the log; peak RSS MB per process ${run.shards.map((s) => s.peakRssMb).join('/')}; ${digestNote}; peak RSS column: the largest process`,
  }
}

function sizeRow(run: Run, filled: Filled, sizes: Awaited<ReturnType<typeof tableSizes>>): ResultRow {
  const perRow = sizes.tables.map((t) => `${t.table} ${t.rows} rows ${t.rows ? Math.round(t.bytes / t.rows) : '—'} B/row`).join(', ')
  return {
    benchmark: 'projector shards: sizes',
    scenario: `first import of ${filled.employees} employees (${filled.records} records), after the first projection (N=${run.count})`,
    value: filled.events / filled.employees,
    unit: 'events/employee',
    peakRssMb: peakRssMb(),
    note:
      `${(filled.employeeEvents / filled.employees).toFixed(2)} of them on employee streams; ${(filled.records / filled.employees).toFixed(2)} change records/employee; ` +
      `on disk (pg_total_relation_size / rows, indexes and TOAST included): ${perRow}; database ${mb(sizes.databaseBytes)} MB ` +
      `(${Math.round(sizes.databaseBytes / filled.employees)} B/employee); processor fill ${(filled.records / filled.processSeconds).toFixed(0)} records/s`,
  }
}

export async function benchProjectorShards(options: ProjectorShardsOptions): Promise<ResultRow[]> {
  const timeoutMs = options.timeoutMs ?? 15 * 60_000
  const filledDb = await createDatabase(options.adminUrl)
  const rows: ResultRow[] = []
  try {
    const filled = await fillStore(filledDb.url, { tenants: options.tenants, employees: options.employeesPerTenant }, new Date())
    process.stderr.write(`projector-shards fixture: ${filled.records} records, ${filled.events} events, last position ${filled.lastPosition}\n`)
    let base: Run | undefined
    for (const count of options.shards) {
      const copy = await createDatabase(options.adminUrl, filledDb.name)
      try {
        const run = await runShards(copy, count, filled.lastPosition, timeoutMs)
        const db = await openPostgresDatabase(copy.url)
        try {
          run.digest = await viewsDigest(db)
          if (base && run.digest !== base.digest) throw new Error(`projector-shards: ${count} projector(s) left other views than ${base.count} (digest ${run.digest} ≠ ${base.digest})`)
          const row = shardRow(run, base, filled, options, base ? `views digest equal to N=${base.count}'s` : `views digest ${run.digest.slice(0, 12)}`)
          rows.push(row)
          process.stderr.write(`projector-shards: N=${count}: ${row.value.toFixed(0)} events/s\n`)
          if (!base) rows.push(sizeRow(run, filled, await tableSizes(db)))
        } finally {
          await db.close()
        }
        base ??= run
      } finally {
        await dropDatabase(options.adminUrl, copy)
      }
    }
  } finally {
    await dropDatabase(options.adminUrl, filledDb)
  }
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      tenants: { type: 'string', default: '16' },
      employees: { type: 'string', default: '500' },
      shards: { type: 'string', default: '1,2,4' },
      'database-url': { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    },
  })
  const rows = await benchProjectorShards({
    adminUrl: values['database-url']!,
    tenants: Number(values.tenants),
    employeesPerTenant: Number(values.employees),
    shards: values.shards!.split(',').map(Number),
  })
  printTable(rows)
}
