// The change-log contract on Kafka: a real broker and Apicurio registry (useTestKafka), plus what
// only Kafka has: bytes that are not registry-encoded, and the registry's BACKWARD check.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel } from 'kafkajs'
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry'
import { changeTopic, openKafkaChangeLog } from './kafka.ts'
import { ensureTopics } from './kafka-topics.ts'
import type { ConsumedChange } from './port.ts'
import { envelopeJsonSchema, valueSubject } from '../../schemas/registry.ts'
import { runChangeLogContract } from '../../test/contracts/change-log.contract.ts'
import { useTestKafka } from '../../test/support/kafka.ts'
import { waitFor } from '../../test/support/wait-for.ts'

const { brokers, registryUrl } = await useTestKafka(t)
// Own topics and subjects for this file, so a shared broker/registry never mixes runs.
const topicPrefix = `test-${randomBytes(4).toString('hex')}.`
const open = async () => {
  const log = await openKafkaChangeLog({ brokers, registryUrl, clientId: 'kafka-test', topicPrefix, partitions: 3, retryBackoffMs: 50 })
  return { log, cleanup: () => log.close() }
}

t.test('change-log contract', async (t) => runChangeLogContract(t, open))

t.test('topics are created with the requested partitions and configs', async (t) => {
  const { cleanup } = await open()
  t.teardown(cleanup)
  const admin = new Kafka({ brokers, clientId: 'kafka-test-admin', logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const topic = changeTopic('work-locations', topicPrefix)
  const meta = await admin.fetchTopicMetadata({ topics: [topic] })
  t.equal(meta.topics[0]?.partitions.length, 3)
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ['retention.ms', 'cleanup.policy'] }],
  })
  const entries = Object.fromEntries(configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]))
  t.same(entries, { 'retention.ms': '-1', 'cleanup.policy': 'delete' })
})

t.test('processes racing to create the same topics all start', async (t) => {
  // Role processes started together each create the topics they use; the losers must neither fail
  // on "already exists" nor on metadata that has not caught up (a projector failed to start so in CI).
  for (let round = 0; round < 3; round++) {
    const topics = [0, 1, 2].map((i) => `${topicPrefix}race-${round}-${i}`)
    const racers = Array.from({ length: 6 }, (_, i) => new Kafka({ brokers, clientId: `racer-${i}`, logLevel: logLevel.NOTHING }))
    const results = await Promise.allSettled(racers.map((kafka) => ensureTopics(kafka, topics, 3, 1, {})))
    t.same(results.filter((r) => r.status === 'rejected'), [], `round ${round}: every racer succeeded`)
  }
  const admin = new Kafka({ brokers, clientId: 'kafka-test-admin', logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const listed = new Set(await admin.listTopics())
  t.ok([0, 1, 2].every((r) => listed.has(`${topicPrefix}race-${r}-0`)), 'the topics exist')
})

t.test('bytes that are not registry-encoded arrive with a decodeError and their raw bytes', async (t) => {
  const { log, cleanup } = await open()
  t.teardown(cleanup)
  const key = `broken-${randomBytes(4).toString('hex')}:1`
  const bytes = Buffer.from('{"tenant":"acme"}') // plain JSON: no magic byte, no schema id
  // The wire format's magic byte and a schema id the registry has never issued.
  const unknownId = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), Buffer.from('{"tenant":"acme"}')])
  const producer = new Kafka({ brokers, clientId: 'kafka-test-raw', logLevel: logLevel.NOTHING }).producer()
  await producer.connect()
  await producer.send({ topic: changeTopic('absences', topicPrefix), messages: [{ key, value: bytes }, { key, value: unknownId }] })
  await producer.disconnect()
  const seen: ConsumedChange[] = []
  const consumer = await log.consume(`decode-${randomBytes(4).toString('hex')}`, async (batch) => {
    seen.push(...batch.filter((c) => c.key === key))
  }, { resources: ['absences'] })
  t.teardown(() => consumer.stop())
  await waitFor('the broken records', () => seen.length >= 2, 60_000)
  await consumer.stop()
  t.equal(seen[0]!.resource, 'absences')
  t.match(seen[0]!.decodeError, /not a registry-encoded change/)
  t.ok(seen[0]!.raw.equals(bytes), 'the bytes are kept for the dead-letter store')
  t.match(seen[1]!.decodeError, /not a registry-encoded change/, 'an unknown schema id is bad bytes, not a registry outage')
  t.ok(seen[1]!.raw.equals(unknownId))
})

t.test('the value subject is BACKWARD compatible: an incompatible schema is refused', async (t) => {
  const { cleanup } = await open()
  t.teardown(cleanup)
  const subject = valueSubject(changeTopic('employees', topicPrefix))
  const config = (await (await fetch(`${registryUrl}/config/${encodeURIComponent(subject)}`)).json()) as { compatibilityLevel?: string }
  t.equal(config.compatibilityLevel, 'BACKWARD')

  const registry = new SchemaRegistry({ host: registryUrl }, { [SchemaType.JSON]: { strict: false, validateFormats: false } as object })
  const current = envelopeJsonSchema('employees') as { properties: Record<string, unknown>; required: string[] }
  // A new required field: data already in the topic lacks it, so readers on the new schema break.
  const incompatible = { ...current, properties: { ...current.properties, region: { type: 'string' } }, required: [...current.required, 'region'] }
  await t.rejects(
    registry.register({ type: SchemaType.JSON, schema: JSON.stringify(incompatible) }, { subject, compatibility: COMPATIBILITY.BACKWARD }),
    /incompatible/i,
  )
  // An optional field is a compatible evolution.
  const compatible = { ...current, properties: { ...current.properties, region: { type: 'string' } } }
  const { id } = await registry.register({ type: SchemaType.JSON, schema: JSON.stringify(compatible) }, { subject, compatibility: COMPATIBILITY.BACKWARD })
  t.ok(id > 0, 'an optional new field is accepted')
})
