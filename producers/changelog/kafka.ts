// The change log on Kafka + a Confluent-compatible Schema Registry (production adapter).
// One topic per Kombo resource, key `tenant:komboId` (so one entity's changes share a partition and
// keep their order), values in the registry's wire format against the JSON Schema generated from
// the zod envelope (schemas/registry.ts). Producers are idempotent with acks=all; consumers commit
// a partition's position only after the handler resolved, so delivery is at-least-once.
import { Kafka, logLevel, type Consumer, type KafkaMessage, type Producer } from 'kafkajs'
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry'
import { changeKey, type ChangeEnvelope } from '../../schemas/envelope.ts'
import { TRACEPARENT, type Traced } from '../../tracing/spans.ts'
import { komboResources, type KomboResource } from '../../schemas/kombo.ts'
import { envelopeJsonSchema, valueSubject } from '../../schemas/registry.ts'
import type { ChangeLog, ChangeLogConsumer, ConsumedChange } from './port.ts'
import { KomboSyncError } from '../../errors/kombo-sync-error.ts'
import { TenantInFlight, type SentMessage } from './kafka-tenant-pending.ts'
import { ensureTopics } from './kafka-topics.ts'
import { javaCompatiblePartitioner } from './kafka-partitioner.ts'

export interface KafkaChangeLogOptions {
  brokers: string[]
  /** The registry's Confluent-compatible base URL, e.g. http://host:8081 or …/apis/ccompat/v7. */
  registryUrl: string
  clientId: string
  /** Partitions of each topic when this adapter creates it (default 6: the processors' max parallelism). */
  partitions?: number
  replicationFactor?: number
  /**
   * Prepended to every topic, schema subject and consumer group (default ''), so several
   * environments (or test files) can share one cluster and registry: `staging.` gives
   * `staging.kombo.hris.employees.v1` and group `staging.processor`.
   */
  topicPrefix?: string
  /** How many partitions' batches one consumer handles at once (default 4). */
  partitionsConsumedConcurrently?: number
  /** Extra topic configs, merged over the defaults below. */
  topicConfig?: Record<string, string>
  /** Pause before a failed batch is delivered again (default 500 ms). */
  retryBackoffMs?: number
  /** How long a fetch waits for new records (default 1000 ms; bounds stop() latency). */
  maxWaitTimeMs?: number
}

/** Publishing failed. `retriable` says whether trying again can help (a broker hiccup can; a value the schema rejects cannot). */
export class ChangeLogPublishError extends KomboSyncError {
  override name = 'ChangeLogPublishError'
  constructor(message: string, readonly retriable: boolean, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** The registry could not be asked about a schema (down, 5xx): the batch is retried, nothing is dead-lettered. */
export class SchemaRegistryUnavailableError extends KomboSyncError {
  override name = 'SchemaRegistryUnavailableError'
  readonly retriable = true
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/**
 * Whether a decode failure is about the bytes (dead-letter them) rather than about reaching the
 * registry (retry): wrong magic byte, truncated bytes, bad JSON, a payload its schema rejects, or
 * a schema id the registry does not know (404). The client reports a refused connection as a
 * status 400, so no other status counts as "bad bytes".
 */
function isBadBytes(err: unknown): boolean {
  if (err instanceof SyntaxError || err instanceof RangeError) return true
  // The client's own error classes (argument/validation) are not exported; they share a name prefix.
  if (err instanceof Error && err.name.startsWith('ConfluentSchemaRegistry')) return true
  return (err as { status?: unknown }).status === 404
}

/**
 * registry.register, safe when several processes start at once. The client registers, then sets
 * the subject's compatibility if the subject was new; with two processes racing, the second
 * setting is refused ("A rule named 'COMPATIBILITY' already exists", Apicurio; a 409), or a process
 * finds the subject between the other's two steps and reads a compatibility it did not expect.
 * Both settle within moments: register again (the schema is found, compatibility checked).
 */
export async function registerSchema(
  registry: SchemaRegistry,
  ...args: Parameters<SchemaRegistry['register']>
): Promise<{ id: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await registry.register(...args)
    } catch (err) {
      const race =
        (err as { status?: number }).status === 409 ||
        /already exists/i.test((err as Error).message) ||
        (err as Error).name === 'ConfluentSchemaRegistryCompatibilityError'
      if (!race || attempt >= 8) throw err
      await new Promise((r) => setTimeout(r, 100 * attempt))
    }
  }
}

/** The topic of one resource's changes, e.g. `kombo.hris.work-locations.v1` (with the environment prefix). */
export const changeTopic = (resource: KomboResource, prefix = ''): string => `${prefix}kombo.hris.${resource}.v1`

// Change records are the replay source for processors: keep them (no time-based deletion) unless
// the operator overrides; compaction would lose history, so plain delete policy without expiry.
const defaultTopicConfig = (replicationFactor: number): Record<string, string> => ({
  'cleanup.policy': 'delete',
  'retention.ms': '-1',
  'min.insync.replicas': String(Math.min(2, replicationFactor)),
})

export async function openKafkaChangeLog(options: KafkaChangeLogOptions): Promise<ChangeLog> {
  const partitions = options.partitions ?? 6
  const replicationFactor = options.replicationFactor ?? 1
  const prefix = options.topicPrefix ?? ''
  const retryBackoffMs = options.retryBackoffMs ?? 500
  const topicOf = new Map(komboResources.map((r) => [r, changeTopic(r, prefix)] as const))
  const resourceOf = new Map([...topicOf].map(([r, topic]) => [topic, r] as const))

  const kafka = new Kafka({ brokers: options.brokers, clientId: options.clientId, logLevel: logLevel.WARN })
  const registry = new SchemaRegistry(
    { host: options.registryUrl, clientId: options.clientId },
    // Formats (date-time) are checked by zod in the processor; the registry client's Ajv knows none.
    { [SchemaType.JSON]: { strict: false, validateFormats: false } as object },
  )

  await ensureTopics(kafka, [...topicOf.values()], partitions, replicationFactor, {
    ...defaultTopicConfig(replicationFactor),
    ...options.topicConfig,
  })

  // Register (or find) each resource's schema once; BACKWARD is set on the subject when it is new
  // and checked when it exists, so a schema change that old data cannot satisfy is refused.
  const schemaIds = new Map<KomboResource, number>()
  await Promise.all(
    komboResources.map(async (resource) => {
      const { id } = await registerSchema(
        registry,
        { type: SchemaType.JSON, schema: JSON.stringify(envelopeJsonSchema(resource)) },
        { subject: valueSubject(topicOf.get(resource)!), compatibility: COMPATIBILITY.BACKWARD },
      )
      schemaIds.set(resource, id)
    }),
  )

  // One admin client for tenantPending's committed-offset lookups, connected on first use.
  let admin: ReturnType<Kafka['admin']> | null = null
  const adminClient = async () => {
    if (!admin) {
      const fresh = kafka.admin()
      await fresh.connect()
      admin = fresh
    }
    return admin
  }
  const inFlight = new TenantInFlight(async (group) =>
    (await adminClient()).fetchOffsets({ groupId: `${prefix}${group}`, topics: [...topicOf.values()] }),
  )
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    // Java's murmur2 partitioner (kafka-partitioner.ts): the same key lands in the same partition
    // whoever produces it (wrapped only to note each record's partition for tenantPending).
    createPartitioner: () => inFlight.partitioner(javaCompatiblePartitioner()),
  })
  await producer.connect()
  const consumers = new Set<ChangeLogConsumer>()

  return {
    async publish(envelopes: Traced<ChangeEnvelope>[]): Promise<void> {
      if (envelopes.length === 0) return
      const byTopic = new Map<string, Array<{ key: string; value: Buffer; headers?: Record<string, string> }>>()
      const sent: SentMessage[] = []
      for (const envelope of envelopes) {
        const resource = envelope.resource as KomboResource
        let value: Buffer
        try {
          value = await registry.encode(schemaIds.get(resource)!, envelope)
        } catch (err) {
          throw new ChangeLogPublishError(`${resource} ${envelope.record.id} does not match its registered schema: ${(err as Error).message}`, false, { cause: err })
        }
        const topic = topicOf.get(resource)!
        if (!byTopic.has(topic)) byTopic.set(topic, [])
        const traceparent = envelope[TRACEPARENT]
        const message = { key: changeKey(envelope.tenant, envelope.record.id), value, ...(traceparent ? { headers: { traceparent } } : {}) }
        byTopic.get(topic)!.push(message)
        sent.push({ tenant: envelope.tenant, topic, message })
      }
      try {
        const result = await producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        })
        inFlight.recordSent(sent, result)
      } catch (err) {
        const retriable = (err as { retriable?: boolean }).retriable !== false
        throw new ChangeLogPublishError(`publishing ${envelopes.length} changes failed: ${(err as Error).message}`, retriable, { cause: err })
      }
    },

    async consume(group, handler, consumeOptions = {}): Promise<ChangeLogConsumer> {
      const resources = consumeOptions.resources ?? [...komboResources]
      const onError = consumeOptions.onError ?? (() => {})
      const consumer: Consumer = kafka.consumer({ groupId: `${prefix}${group}`, maxWaitTimeInMs: options.maxWaitTimeMs ?? 1000 })
      await consumer.connect()
      await consumer.subscribe({ topics: resources.map((r) => topicOf.get(r)!), fromBeginning: true })

      const decode = async (topic: string, partition: number, message: KafkaMessage): Promise<ConsumedChange> => {
        const raw = message.value ?? Buffer.alloc(0)
        const traceparent = message.headers?.traceparent?.toString()
        const base = { resource: resourceOf.get(topic)!, key: message.key?.toString('utf8') ?? '', partition, offset: message.offset, raw, ...(traceparent ? { traceparent } : {}) }
        if (raw.length === 0) return { ...base, value: null, decodeError: 'empty value (tombstone)' }
        try {
          return { ...base, value: await registry.decode(raw) }
        } catch (err) {
          if (!isBadBytes(err)) throw new SchemaRegistryUnavailableError(`cannot decode ${topic}/${partition}@${message.offset}: ${(err as Error).message}`, { cause: err })
          return { ...base, value: null, decodeError: `not a registry-encoded change: ${(err as Error).message}` }
        }
      }

      await consumer.run({
        // Partitions hold different keys, so their batches may run side by side; within a
        // partition batches stay one after another (per-key order).
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 4,
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (batch.messages.length === 0 || !isRunning() || isStale()) return
          try {
            const changes = await Promise.all(batch.messages.map((m) => decode(batch.topic, batch.partition, m)))
            await handler(changes)
          } catch (err) {
            onError(err as Error)
            // Deliver the same records again: nothing is resolved or committed, and the next
            // fetch of this partition starts at the batch's first offset.
            await new Promise((r) => setTimeout(r, retryBackoffMs))
            await heartbeat().catch(() => {})
            if (isRunning()) consumer.seek({ topic: batch.topic, partition: batch.partition, offset: batch.firstOffset()! })
            return
          }
          const next = (BigInt(batch.lastOffset()) + 1n).toString()
          for (const m of batch.messages) resolveOffset(m.offset)
          try {
            await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }])
          } catch (err) {
            // Typically a rebalance took the partition away: its new owner gets these records
            // again (at-least-once), which idempotent processing absorbs.
            onError(err as Error)
          }
          await heartbeat().catch(() => {})
        },
      })

      let stopping: Promise<void> | undefined
      const handle: ChangeLogConsumer = {
        stop: () => {
          // kafkajs' disconnect waits for the batch in flight, then leaves the group.
          stopping ??= consumer.disconnect().finally(() => consumers.delete(handle))
          return stopping
        },
      }
      consumers.add(handle)
      return handle
    },

    async pending(group, resources = [...komboResources]): Promise<number> {
      const admin = kafka.admin()
      await admin.connect()
      try {
        const topics = resources.map((r) => topicOf.get(r)!)
        const committed = await admin.fetchOffsets({ groupId: `${prefix}${group}`, topics })
        let lag = 0
        for (const topic of topics) {
          const ends = await admin.fetchTopicOffsets(topic)
          const mine = committed.find((c) => c.topic === topic)?.partitions ?? []
          for (const end of ends) {
            const at = mine.find((p) => p.partition === end.partition)?.offset
            // No commit yet: the group starts at the earliest offset still in the log.
            const from = at !== undefined && Number(at) >= 0 ? Number(at) : Number(end.low)
            lag += Math.max(0, Number(end.high) - from)
          }
        }
        return lag
      } finally {
        await admin.disconnect()
      }
    },

    tenantPending: (group, tenant) => inFlight.pending(group, tenant),

    async close(): Promise<void> {
      await Promise.all([...consumers].map((c) => c.stop()))
      await producer.disconnect()
      await admin?.disconnect()
    },
  }
}
