// Readiness probes of the stores a process depends on. Each resolves when the store answers and
// rejects (with a message naming the store, never a secret) when it does not within a bound, so
// /health/ready turns 503 while a store is down even if no batch happened to fail yet.
import { Kafka, logLevel } from 'kafkajs'
import type { EventStore } from '../processors/eventstore/port.ts'
import { KomboSyncError } from '../errors/kombo-sync-error.ts'

/** A store did not answer the readiness probe; retrying later helps once it is back. */
export class StoreUnavailableError extends KomboSyncError {
  override name = 'StoreUnavailableError'
  readonly retriable = true
}

const PROBE_TIMEOUT_MS = 2_000

export async function withTimeout<T>(what: string, work: Promise<T>, ms = PROBE_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(`${what}: no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The event store answers a one-event read of $all. */
export async function probeEventStore(store: EventStore): Promise<void> {
  await withTimeout('event store', store.readAll({ maxCount: 1 }))
}

/** The Kafka cluster answers describeCluster with at least one broker (no retries: a probe, not work). */
export async function probeKafka(brokers: string[]): Promise<void> {
  const admin = new Kafka({ brokers, clientId: 'kombo-sync-readiness', logLevel: logLevel.NOTHING, connectionTimeout: 1_000, retry: { retries: 0 } }).admin()
  try {
    const cluster = await withTimeout('kafka', admin.connect().then(() => admin.describeCluster()))
    if (cluster.brokers.length === 0) throw new StoreUnavailableError('kafka: no broker in the cluster')
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

/** The Schema Registry answers its subject list. */
export async function probeSchemaRegistry(registryUrl: string): Promise<void> {
  let res: Response
  try {
    res = await fetch(`${registryUrl.replace(/\/$/, '')}/subjects`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
  } catch (err) {
    throw new StoreUnavailableError(`schema registry: ${(err as Error).message}`)
  }
  if (!res.ok) throw new StoreUnavailableError(`schema registry: HTTP ${res.status}`)
}
