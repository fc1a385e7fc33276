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

/** A server started with a data directory and a port, which it keeps across stop() and start(). */
async function restartableServer<R extends { stop(): Promise<void> }>(
  t: Teardown,
  name: string,
  launch: (options: { dataDir: string; port: number; cacheDir: string | undefined }) => Promise<R>,
): Promise<Restartable & { first: R }> {
  const dataDir = mkdtempSync(join(tmpdir(), `kombo-sync-restartable-${name}-`))
  const options = { dataDir, port: await freePort(), cacheDir: process.env.KOMBO_SYNC_STACK_DIR || undefined }
  const first = await launch(options)
  let running: R | null = first
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
    first,
    stop,
    async start() {
      running ??= await launch(options)
    },
  }
}

export async function startRestartableKafka(t: Teardown): Promise<Restartable & { brokers: string[] }> {
  const { first, stop, start } = await restartableServer<RunningKafka>(t, 'kafka', startKafka)
  return { brokers: first.brokers, stop, start }
}

export async function startRestartableRegistry(t: Teardown): Promise<Restartable & { url: string }> {
  const { first, stop, start } = await restartableServer<RunningSchemaRegistry>(t, 'registry', startSchemaRegistry)
  return { url: first.url, stop, start }
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
