// The user feed on Kafka: topic `${prefix}learnamp.user-events.v1`, key `tenant:userId` (Java's
// murmur2 partitioner, so one user's events share a partition and keep their order), values in
// the registry's wire format against the JSON Schema generated from the zod schema, registered
// under `<topic>-value` with BACKWARD compatibility. Idempotent producer, acks=all: a broker retry
// never duplicates or reorders within a partition; a publisher restart may re-send (see port.ts).
import { Kafka, logLevel, type Producer } from 'kafkajs'
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry'
import { registerSchema } from '../../producers/changelog/kafka.ts'
import { ensureTopics } from '../../producers/changelog/kafka-topics.ts'
import { javaCompatiblePartitioner } from '../../producers/changelog/kafka-partitioner.ts'
import { valueSubject } from '../../schemas/registry.ts'
import { userFeedJsonSchema, userFeedKey, userFeedTopic, type UserFeedEvent } from '../../schemas/user-feed.ts'
import { UserFeedPublishError, type UserFeedSink } from './port.ts'

export interface KafkaUserFeedOptions {
  brokers: string[]
  registryUrl: string
  clientId: string
  /** Environment prefix of the topic and subject (as the change log's). */
  topicPrefix?: string
  /** Partitions when this adapter creates the topic (default 6). */
  partitions?: number
  replicationFactor?: number
  /** Extra topic configs over the defaults (plain delete policy; the broker's retention). */
  topicConfig?: Record<string, string>
}

export interface KafkaUserFeedSink extends UserFeedSink {
  readonly topic: string
  /** The registry schema id the values are encoded with. */
  readonly schemaId: number
}

export async function openKafkaUserFeedSink(options: KafkaUserFeedOptions): Promise<KafkaUserFeedSink> {
  const topic = userFeedTopic(options.topicPrefix ?? '')
  const replicationFactor = options.replicationFactor ?? 1
  const kafka = new Kafka({ brokers: options.brokers, clientId: options.clientId, logLevel: logLevel.WARN })
  const registry = new SchemaRegistry(
    { host: options.registryUrl, clientId: options.clientId },
    { [SchemaType.JSON]: { strict: false, validateFormats: false } as object },
  )
  // The feed can always be produced again from the event store (feed-replay), so the topic keeps
  // the broker's retention rather than everything forever.
  await ensureTopics(kafka, [topic], options.partitions ?? 6, replicationFactor, {
    'cleanup.policy': 'delete',
    'min.insync.replicas': String(Math.min(2, replicationFactor)),
    ...options.topicConfig,
  })
  const { id: schemaId } = await registerSchema(
    registry,
    { type: SchemaType.JSON, schema: JSON.stringify(userFeedJsonSchema()) },
    { subject: valueSubject(topic), compatibility: COMPATIBILITY.BACKWARD },
  )
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: javaCompatiblePartitioner })
  await producer.connect()

  return {
    topic,
    schemaId,
    async publish(events: UserFeedEvent[]): Promise<void> {
      if (events.length === 0) return
      const messages = []
      for (const event of events) {
        let value: Buffer
        try {
          value = await registry.encode(schemaId, event)
        } catch (err) {
          throw new UserFeedPublishError(`user feed event ${event.eventId} does not match its registered schema: ${(err as Error).message}`, false, { cause: err })
        }
        messages.push({
          key: userFeedKey(event.tenant, event.userId),
          value,
          headers: { 'event-id': event.eventId, 'event-type': event.type },
        })
      }
      try {
        await producer.send({ topic, acks: -1, messages })
      } catch (err) {
        const retryable = (err as { retriable?: boolean }).retriable !== false
        throw new UserFeedPublishError(`publishing ${events.length} user feed events failed: ${(err as Error).message}`, retryable, { cause: err })
      }
    },
    async close(): Promise<void> {
      await producer.disconnect()
    },
  }
}
