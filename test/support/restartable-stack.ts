// A Kafka broker, a Schema Registry and an EventStoreDB double that a test can stop and start
// again on the same address with the same data, to play store outages: the broker keeps its log
// directory, the registry its (file-backed) storage, the double its in-memory log object.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, startKafka, startSchemaRegistry, type RunningKafka, type RunningSchemaRegistry } from '../../infra/local-stack.ts'
import { startEsdbDouble, type EsdbDouble } from './esdb-double/index.ts'

export interface Restartable {
  /** Stops it (idempotent); clients see a refused connection until start(). */
  stop(): Promise<void>
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>
}

type Teardown = { teardown: (fn: () => unknown) => void }

export async function startRestartableKafka(t: Teardown): Promise<Restartable & { brokers: string[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kombo-sync-restartable-kafka-'))
  const cacheDir = process.env.KOMBO_SYNC_STACK_DIR || undefined
  const port = await freePort()
  let running: RunningKafka | null = await startKafka({ dataDir, port, cacheDir })
  const stop = async () => {
    const r = running
    running = null
    await r?.stop()
  }
  t.teardown(async () => {
    await stop()
    rmSync(dataDir, { recursive: true, force: true })
  })
  return {
    brokers: running.brokers,
    stop,
    async start() {
      running ??= await startKafka({ dataDir, port, cacheDir })
    },
  }
}

export async function startRestartableRegistry(t: Teardown): Promise<Restartable & { url: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kombo-sync-restartable-registry-'))
  const cacheDir = process.env.KOMBO_SYNC_STACK_DIR || undefined
  const port = await freePort()
  let running: RunningSchemaRegistry | null = await startSchemaRegistry({ dataDir, port, cacheDir })
  const stop = async () => {
    const r = running
    running = null
    await r?.stop()
  }
  t.teardown(async () => {
    await stop()
    rmSync(dataDir, { recursive: true, force: true })
  })
  return {
    url: running.url,
    stop,
    async start() {
      running ??= await startSchemaRegistry({ dataDir, port, cacheDir })
    },
  }
}

export async function startRestartableEsdbDouble(t: Teardown): Promise<Restartable & { connectionString: string; double(): EsdbDouble | null }> {
  let running: EsdbDouble | null = await startEsdbDouble()
  const { port, log, connectionString } = running
  const stop = async () => {
    const r = running
    running = null
    await r?.close()
  }
  t.teardown(stop)
  return {
    connectionString,
    double: () => running,
    stop,
    async start() {
      running ??= await startEsdbDouble({ port, log })
    },
  }
}
