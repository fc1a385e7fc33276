// Production mode with PostgreSQL as the event store and the views (issue 10 goal 1): the change
// log on Kafka + the Schema Registry (the stack of bench/production.ts), and no
// EVENTSTORE_CONNECTION_STRING, so the service keeps its events in the same throw-away PostgreSQL
// database as its views (runtime/stores.ts). Baseline of the same run: the write floor
// (bench/write-floor.ts) of the rows the sync left in that database, re-inserted 1,000 per INSERT.
// It is measured once the service has stopped, in a fresh throw-away database made from the
// pipeline's (`CREATE DATABASE … TEMPLATE`): the same rows and tables, and nothing else connected.
// The change log is not in PostgreSQL here but on Kafka, so the floor leaves it out; the note puts
// raw kafkajs produce+consume of as many messages as records beside it, and the ratio with both.
import { openPostgresDatabase } from '../sql/postgres.ts'
import { measureInitialSync, perSecond, type InitialSyncResult } from './initial-sync.ts'
import { floorTablesNote, measureWriteFloor, type WriteFloor } from './write-floor.ts'
import { kafkaEnv, PARTITIONS, RAW_KAFKA_BATCH, rawKafkaRate, throwawayDatabase, type ProductionStack } from './production.ts'
import { sizeLabel } from './harness.ts'
import { peakRssMb, type ResultRow } from './report.ts'

export interface ProductionPostgresResult {
  sync: InitialSyncResult
  floor: WriteFloor
  kafka: { messagesPerSecond: number; ms: number }
}

/** The write floor of `database`'s rows, measured in a copy of it that is dropped again. */
export async function floorOfCopy(stack: ProductionStack, database: string): Promise<WriteFloor> {
  const copy = await throwawayDatabase(stack.adminDatabaseUrl, { prefix: stack.databasePrefix, template: database })
  try {
    const db = await openPostgresDatabase(copy.url)
    try {
      return await measureWriteFloor(db)
    } finally {
      await db.close()
    }
  } finally {
    await copy.drop()
  }
}

/** One initial sync of `employees` on Kafka + PostgreSQL, its write floor, and raw kafkajs for as many records. */
export async function measureProductionPostgresSync(stack: ProductionStack, employees: number): Promise<ProductionPostgresResult> {
  const database = await throwawayDatabase(stack.adminDatabaseUrl, { prefix: stack.databasePrefix })
  let sync: InitialSyncResult
  let floor: WriteFloor
  try {
    // measureInitialSync stops the service before it returns: the database is idle for the copy.
    sync = await measureInitialSync(employees, { env: { ...kafkaEnv(stack), DATABASE_URL: database.url }, checkEveryMs: 50 })
    floor = await floorOfCopy(stack, database.name)
  } finally {
    await database.drop()
  }
  const kafka = await rawKafkaRate(stack.kafka.brokers, sync.records)
  return { sync, floor, kafka }
}

/** "floor / pipeline 0.34× (floor 80.5 s: events 330,286, …)": the write floor against the pipeline's time. */
export const floorRatioNote = (floor: WriteFloor, pipelineMs: number) =>
  `floor / pipeline ${(floor.ms / pipelineMs).toFixed(2)}× (floor ${(floor.ms / 1000).toFixed(1)} s: ${floorTablesNote(floor)})`

export function productionPostgresRow(employees: number, { sync: r, floor, kafka }: ProductionPostgresResult): ResultRow {
  const value = perSecond(r.records, r.visibleMs)
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  return {
    benchmark: 'initial sync',
    scenario: `${sizeLabel(employees)} employees, production on PostgreSQL (Kafka + registry change log, PostgreSQL event store and views)`,
    value,
    unit: 'records/s',
    // records per second of floor time, so that the ratio is floor time / pipeline time.
    baseline: {
      label: `write floor: the ${floor.rows.toLocaleString('en-US')} rows the sync left in PostgreSQL (the change log is on Kafka), re-inserted 1,000 per INSERT into a fresh copy of its database`,
      value: perSecond(r.records, floor.ms),
      unit: 'records/s',
    },
    peakRssMb: peakRssMb(),
    note:
      `${floorRatioNote(floor, r.visibleMs)}; ` +
      `raw kafkajs produce+consume of ${r.records} messages on the same broker (batches of ${RAW_KAFKA_BATCH.toLocaleString('en-US')}, ${PARTITIONS} partitions) ${seconds(kafka.ms)}, ` +
      `${Math.round(kafka.messagesPerSecond).toLocaleString('en-US')} msgs/s → ${(value / kafka.messagesPerSecond).toFixed(2)}×; (floor + raw kafkajs) / pipeline ${((floor.ms + kafka.ms) / r.visibleMs).toFixed(2)}×; ` +
      `${r.records} records → ${r.events} events, ${r.employees} users visible after ${seconds(r.visibleMs)} (polled ${seconds(r.polledMs)}, processed ${seconds(r.processedMs)})`,
  }
}

export async function benchProductionPostgresSync(stack: ProductionStack, sizes: number[]): Promise<ResultRow[]> {
  const rows: ResultRow[] = []
  for (const size of sizes) rows.push(productionPostgresRow(size, await measureProductionPostgresSync(stack, size)))
  return rows
}
