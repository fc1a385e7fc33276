// Production mode: a real Kafka broker with the Schema Registry (infra/local-stack.ts), the
// EventStoreDB adapter on the gRPC double (test/support/esdb-double, in this process) and
// PostgreSQL views in a throw-away database created and dropped here. Baselines of the same run:
// raw kafkajs produce+consume on the same broker, and raw appends through the same EventStoreDB
// adapter to a fresh double. (The rows with PostgreSQL as the event store too, against its write
// floor, are bench/production-postgres.ts.) Also processor scaling: 1, 2 and 4 processor child processes
// draining the same pre-filled 8-partition change log.
import { randomBytes, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { startKafka, startSchemaRegistry, type RunningKafka, type RunningSchemaRegistry } from '../infra/local-stack.ts'
import { startEsdbDouble } from '../test/support/esdb-double/index.ts'
import { startChildService, type ChildService } from '../test/support/child-service.ts'
import { openEsdbEventStore } from '../processors/eventstore/esdb.ts'
import { startKomboSimulator } from '../simulator/index.ts'
import { komboResources } from '../schemas/kombo.ts'
import { PROCESSOR_GROUP, type RunningService } from '../runtime/service.ts'
import { VIEWS_CHECKPOINT } from '../projections/projector.ts'
import { measureInitialSync } from './initial-sync.ts'
import { rawAppendRate } from './raw-event-store.ts'
import { benchEnv, counterTotal, sizeLabel, startBenchService, until, untunedProcessor, type ProcessorTuning } from './harness.ts'
import { tempDir } from './temp-dir.ts'
import { peakRssMb, type ResultRow } from './report.ts'

export const PARTITIONS = 8
const PROJECTED = ['employee-', 'team-', 'location-', 'legalEntity-', 'absenceType-', 'absence-']

export interface ProductionStack {
  kafka: RunningKafka
  registry: RunningSchemaRegistry
  adminDatabaseUrl: string
  /** Names of the throw-away databases start with it, so that a caller can check none was left. */
  databasePrefix: string
  stop(): Promise<void>
}

export const BENCH_DATABASE_PREFIX = 'kombo_sync_bench_'

/** Kafka + registry (fetched from Maven Central the first time) and a check that PostgreSQL answers. */
export async function startProductionStack(adminDatabaseUrl: string, options: { databasePrefix?: string } = {}): Promise<ProductionStack> {
  const databasePrefix = options.databasePrefix ?? BENCH_DATABASE_PREFIX
  if (!/^[a-z_][a-z0-9_]*$/.test(databasePrefix)) throw new Error(`bench: a database prefix is lower-case letters, digits and _ (got "${databasePrefix}")`)
  const admin = new pg.Client({ connectionString: adminDatabaseUrl })
  await admin.connect()
  await admin.end()
  const [kafka, registry] = await Promise.allSettled([startKafka(), startSchemaRegistry()])
  const stop = async () => {
    await Promise.all([kafka.status === 'fulfilled' ? kafka.value.stop() : undefined, registry.status === 'fulfilled' ? registry.value.stop() : undefined])
  }
  if (kafka.status === 'rejected' || registry.status === 'rejected') {
    await stop()
    throw kafka.status === 'rejected' ? kafka.reason : (registry as PromiseRejectedResult).reason
  }
  return { kafka: kafka.value, registry: registry.value, adminDatabaseUrl, databasePrefix, stop }
}

/**
 * A fresh database on the server, dropped again by `drop()`; with `template`, a copy of that
 * database (which nobody may be connected to).
 */
export async function throwawayDatabase(adminUrl: string, options: { prefix?: string; template?: string } = {}): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${options.prefix ?? BENCH_DATABASE_PREFIX}${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}${options.template ? ` TEMPLATE ${options.template}` : ''}`)
  } finally {
    await admin.end()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    name,
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}

/** The change log on the stack's broker and registry, under topics of its own (a fresh prefix). */
export function kafkaEnv(stack: ProductionStack): Record<string, string> {
  return {
    KAFKA_BROKERS: stack.kafka.brokers.join(','),
    SCHEMA_REGISTRY_URL: stack.registry.url,
    KAFKA_TOPIC_PREFIX: `bench-${randomBytes(4).toString('hex')}.`,
    KAFKA_PARTITIONS: String(PARTITIONS),
  }
}

/** Where a production scenario keeps its events: the EventStoreDB double, or PostgreSQL beside the views. */
export type BenchEventStore = 'esdb' | 'postgres'

/** What a row's scenario says about its stores. */
export const eventStoreLabel = (eventStore: BenchEventStore) =>
  eventStore === 'postgres' ? 'PostgreSQL event store and views' : 'EventStoreDB adapter on the gRPC double, PostgreSQL views'

/**
 * One scenario's own topics (prefix), event store and database: with 'esdb' a fresh double (in this
 * process); with 'postgres' no EVENTSTORE_CONNECTION_STRING, so the events go into the same
 * throw-away database as the views (runtime/stores.ts).
 */
export async function productionEnv(stack: ProductionStack, eventStore: BenchEventStore = 'esdb'): Promise<{ env: Record<string, string>; database: string; close(): Promise<void> }> {
  const [started, created] = await Promise.allSettled([eventStore === 'esdb' ? startEsdbDouble() : null, throwawayDatabase(stack.adminDatabaseUrl, { prefix: stack.databasePrefix })])
  if (started.status === 'rejected' || created.status === 'rejected') {
    // Whichever of the two did start is not left behind.
    await Promise.all([started.status === 'fulfilled' ? started.value?.close() : undefined, created.status === 'fulfilled' ? created.value.drop() : undefined])
    throw started.status === 'rejected' ? started.reason : (created as PromiseRejectedResult).reason
  }
  const [double, db] = [started.value, created.value]
  return {
    database: db.name,
    env: {
      ...kafkaEnv(stack),
      ...(double ? { EVENTSTORE_CONNECTION_STRING: double.connectionString } : {}),
      DATABASE_URL: db.url,
    },
    async close() {
      await Promise.resolve(double?.close()).finally(() => db.drop())
    },
  }
}

/** An envelope-sized message: what one change record costs the broker. */
function syntheticChange(i: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      tenant: 'demo',
      integrationId: 'demo',
      resource: 'employees',
      fetchedAt: new Date().toISOString(),
      pollId: 'bench',
      record: { id: `emp-${i}`, first_name: 'Synthetic', last_name: `Person ${i}`, job_title: 'Benchmark Engineer', work_email: `person${i}@example.test`, padding: 'x'.repeat(600) },
    }),
  )
}

export const RAW_KAFKA_BATCH = 1000

/**
 * Raw kafkajs on the same broker, no kombo-sync logic: an idempotent producer (acks=all, as the
 * change log's) sends `messages` in batches of 1,000 to an 8-partition topic while a consumer group
 * reads them; the rate is messages / (first send → last message consumed).
 */
export async function rawKafkaRate(brokers: string[], messages: number): Promise<{ messagesPerSecond: number; ms: number }> {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.NOTHING })
  const topic = `bench-raw-${randomUUID()}`
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true })
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  const consumer = kafka.consumer({ groupId: `${topic}-group`, maxWaitTimeInMs: 100 })
  await Promise.all([producer.connect(), consumer.connect()])
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    let consumed = 0
    let done: () => void = () => {}
    const all = new Promise<void>((r) => (done = r))
    await consumer.run({
      eachBatch: async ({ batch }) => {
        consumed += batch.messages.length
        if (consumed >= messages) done()
      },
    })
    const started = performance.now()
    for (let i = 0; i < messages; i += RAW_KAFKA_BATCH) {
      const n = Math.min(RAW_KAFKA_BATCH, messages - i)
      await producer.send({ topic, acks: -1, messages: Array.from({ length: n }, (_, k) => ({ key: `demo:emp-${i + k}`, value: syntheticChange(i + k) })) })
    }
    await all
    const ms = performance.now() - started
    return { messagesPerSecond: (messages / ms) * 1000, ms }
  } finally {
    await Promise.all([producer.disconnect(), consumer.disconnect()])
    await admin.deleteTopics({ topics: [topic] }).catch(() => {})
    await admin.disconnect()
  }
}

/** Raw appends through the EventStoreDB adapter to a fresh double (one at a time, as the baseline of the embedded rows). */
async function rawEsdbAppendRate(appends: number, eventsPerAppend: number): Promise<number> {
  const double = await startEsdbDouble()
  const store = openEsdbEventStore(double.connectionString)
  try {
    return (await rawAppendRate(store, appends, eventsPerAppend)).appendsPerSecond
  } finally {
    await store.close()
    await double.close()
  }
}

/** Initial sync in production mode, after (and, for `beforeSizes`, before) the processor change. */
export async function benchProductionSync(stack: ProductionStack, sizes: number[], beforeSizes: number[]): Promise<ResultRow[]> {
  const rows: ResultRow[] = []
  const runs: Array<{ size: number; processor?: ProcessorTuning; label: string }> = []
  for (const size of sizes) {
    if (beforeSizes.includes(size)) runs.push({ size, processor: untunedProcessor, label: 'before: no stream-state cache, one stream decided at a time' })
    runs.push({ size, label: 'after: one append per stream and batch, 8 streams at a time, 10k-stream cache' })
  }
  for (const run of runs) {
    const scenario = await productionEnv(stack)
    let r
    try {
      r = await measureInitialSync(run.size, { env: scenario.env, processor: run.processor, checkEveryMs: 50 })
    } finally {
      await scenario.close()
    }
    const rss = peakRssMb()
    const eventsPerAppend = Math.max(1, Math.round(r.events / Math.max(1, r.records)))
    const esdb = await rawEsdbAppendRate(r.records, eventsPerAppend)
    const kafka = await rawKafkaRate(stack.kafka.brokers, r.records)
    const value = (r.records / r.visibleMs) * 1000
    rows.push({
      benchmark: 'initial sync',
      scenario: `${sizeLabel(run.size)} employees, production, EventStoreDB adapter on the gRPC double (${run.label})`,
      value,
      unit: 'records/s',
      baseline: { label: `raw appends through the EventStoreDB adapter to the gRPC double, ${eventsPerAppend} event(s) each`, value: esdb, unit: 'appends/s' },
      peakRssMb: rss,
      note:
        `${(value / kafka.messagesPerSecond).toFixed(2)}× of raw kafkajs produce+consume on the same broker (${Math.round(kafka.messagesPerSecond).toLocaleString('en-US')} msgs/s, batches of ${RAW_KAFKA_BATCH.toLocaleString('en-US')}, ${PARTITIONS} partitions); ` +
        `${r.records} records → ${r.events} events, ${r.employees} users visible after ${(r.visibleMs / 1000).toFixed(1)} s (polled ${(r.polledMs / 1000).toFixed(1)} s, processed ${(r.processedMs / 1000).toFixed(1)} s)`,
    })
  }
  return rows
}

// ---- scaling ----------------------------------------------------------------------------------------

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); 0 elsewhere. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (!pid) return 0
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks (100 Hz)
  } catch {
    return 0
  }
}

/**
 * CPU seconds the whole machine was busy so far (every core, from /proc/stat: user, nice, system,
 * irq, softirq, steal): against the role processes' own seconds it shows what PostgreSQL, Kafka and
 * the registry used, which no per-process reading here covers. NaN where /proc/stat is missing.
 */
export function machineBusySeconds(): number {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    return (user + nice + system + irq + softirq + (steal || 0)) / 100
  } catch {
    return NaN
  }
}

async function resetGroupToEarliest(brokers: string[], prefix: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-admin', brokers, logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
    for (const topic of topics) await admin.resetOffsets({ groupId: `${prefix}${PROCESSOR_GROUP}`, topic, earliest: true })
  } finally {
    await admin.disconnect()
  }
}

/**
 * The same change log drained by 1, 2, 4 … processor processes: the company is polled into an
 * 8-partition change log once; then, for each count, the processor group is reset to the start and
 * that many `kombo-sync processor` children (a fresh event store and database each time) fold it,
 * with a projector in this process. Rate: records / (first append → consumer lag 0).
 */
export async function benchScaling(stack: ProductionStack, employees: number, counts: number[]): Promise<ResultRow[]> {
  const simulator = await startKomboSimulator({ port: 0, employees, seed: 7, logger: false })
  const company = simulator.integration('demo')
  const records = komboResources.reduce((n, r) => n + company.list(r, { includeDeleted: true }).length, 0)
  const users = company.list('employees', { includeDeleted: true }).length
  const data = tempDir('kombo-sync-bench-scaling-')
  const first = await productionEnv(stack)
  const prefix = first.env.KAFKA_TOPIC_PREFIX
  const rows: ResultRow[] = []
  try {
    // Fill the change log once.
    // Creating a fresh prefix's topics sometimes meets a broker still electing their leaders: retry once.
    const pollerEnv = benchEnv(simulator.url, data.dir, first.env)
    const poller = await startBenchService(pollerEnv, 'poller').catch(async () => {
      await new Promise((r) => setTimeout(r, 2000))
      return startBenchService(pollerEnv, 'poller')
    })
    try {
      await until('the company to be polled', async () => (await counterTotal(poller, 'kombo_sync_records_polled_total')) >= records, 30 * 60_000, 200)
    } finally {
      await poller.stop()
    }
    await first.close()
    let single = 0
    for (const count of counts) {
      const scenario = await productionEnv(stack)
      const env = benchEnv(simulator.url, data.dir, { ...scenario.env, KAFKA_TOPIC_PREFIX: prefix })
      await resetGroupToEarliest(stack.kafka.brokers, prefix)
      let projector: RunningService | undefined
      // Started together, not awaited: the clock runs from here, the first append marks when they work.
      const starting: Array<Promise<ChildService>> = []
      try {
        projector = await startBenchService(env, 'projector')
        const service = projector
        const cpuBefore = { bench: process.cpuUsage(), kafka: cpuSecondsOf(stack.kafka.pid), registry: cpuSecondsOf(stack.registry.pid) }
        const started = performance.now()
        for (let i = 0; i < count; i++) starting.push(startChildService({ ...env, LOG_LEVEL: 'warn' }, 60_000, 'processor'))
        let firstAppendAt = 0
        let drainedAt = 0
        await until(
          `${count} processor(s) to drain the change log`,
          async () => {
            if (!firstAppendAt && (await service.stores.eventStore.readAll({ maxCount: 1 })).length > 0) firstAppendAt = performance.now()
            if (!firstAppendAt) return false
            if (!drainedAt && (await service.stores.changeLog.pending(PROCESSOR_GROUP)) === 0) drainedAt = performance.now()
            if (!drainedAt) return false
            if ((await service.stores.views.counts()).users < users) return false
            const last = await service.stores.eventStore.readAll({ after: (await service.stores.views.checkpoint(VIEWS_CHECKPOINT)) ?? undefined, maxCount: 1, streamPrefixes: PROJECTED })
            return last.length === 0
          },
          30 * 60_000,
          100,
        )
        const visibleAt = performance.now()
        const children = await Promise.all(starting)
        const cpu = {
          processors: children.reduce((n, c) => n + cpuSecondsOf(c.proc.pid), 0),
          bench: (() => {
            const u = process.cpuUsage(cpuBefore.bench)
            return (u.user + u.system) / 1e6
          })(),
          kafka: cpuSecondsOf(stack.kafka.pid) - cpuBefore.kafka,
          registry: cpuSecondsOf(stack.registry.pid) - cpuBefore.registry,
        }
        const wall = (visibleAt - started) / 1000
        const value = (records / (drainedAt - firstAppendAt)) * 1000
        if (count === counts[0]) single = value
        const events = (await service.stores.eventStore.readAll({ streamPrefixes: PROJECTED })).length
        rows.push({
          benchmark: 'processor scaling',
          scenario: `${sizeLabel(employees)} employees, ${count} processor process${count === 1 ? '' : 'es'}, ${PARTITIONS} partitions, production`,
          value,
          unit: 'records/s',
          baseline: count === counts[0] ? undefined : { label: `${counts[0]} processor process, same run`, value: single, unit: 'records/s' },
          peakRssMb: peakRssMb(),
          note:
            `${records} records → ${events} events, first append → lag 0 in ${((drainedAt - firstAppendAt) / 1000).toFixed(1)} s (children start ${((firstAppendAt - started) / 1000).toFixed(1)} s), all visible after ${wall.toFixed(1)} s; ` +
            `CPU s over those ${wall.toFixed(0)} s: processors ${cpu.processors.toFixed(1)}, bench process (EventStoreDB double + projector) ${cpu.bench.toFixed(1)}, Kafka ${cpu.kafka.toFixed(1)}, registry ${cpu.registry.toFixed(1)} (PostgreSQL not sampled)`,
        })
      } finally {
        await Promise.all(starting.map((child) => child.then((c) => c.stop()).catch(() => {})))
        await projector?.stop()
        await scenario.close()
      }
    }
  } finally {
    await simulator.close()
    data.remove()
  }
  return rows
}
