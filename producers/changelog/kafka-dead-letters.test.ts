// The dead-letter contract on a real Kafka broker (useTestKafka), plus the Kafka-only parts:
// the record layout (raw bytes as value, reason/origin in headers) and re-driving unknown ids.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel } from 'kafkajs'
import { DeadLetterNotFoundError, deadLetterTopic, openKafkaDeadLetterStore } from './kafka-dead-letters.ts'
import { runDeadLetterContract } from '../../test/contracts/dead-letters.contract.ts'
import { useTestKafka } from '../../test/support/kafka.ts'

const { brokers, registryUrl } = await useTestKafka(t)
const topicPrefix = `test-${randomBytes(4).toString('hex')}.`
const open = async () => {
  const store = await openKafkaDeadLetterStore({ brokers, registryUrl, clientId: 'dead-letter-test', topicPrefix })
  return { store, cleanup: () => store.close() }
}

t.test('dead-letter contract', async (t) => runDeadLetterContract(t, open))

t.test('a letter is one record: original bytes as value, reason and origin in headers', async (t) => {
  const { store, cleanup } = await open()
  t.teardown(cleanup)
  const raw = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x07, 0x7b, 0xff])
  const letter = await store.put({ reason: 'unknown schema id 7', origin: { topic: 'kombo.hris.groups.v1', partition: 0, offset: '9' }, key: 'acme:g1', raw })

  const consumer = new Kafka({ brokers, clientId: 'dead-letter-test-reader', logLevel: logLevel.NOTHING }).consumer({ groupId: `reader-${randomBytes(4).toString('hex')}` })
  await consumer.connect()
  t.teardown(() => consumer.disconnect())
  await consumer.subscribe({ topics: [deadLetterTopic(topicPrefix)], fromBeginning: true })
  const found = await new Promise<{ key: string; value: Buffer; headers: Record<string, string> }>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]))
        if (headers['dl-id'] === letter.id) resolve({ key: String(message.key), value: message.value!, headers })
      },
    })
  })
  t.equal(found.key, 'acme:g1')
  t.ok(found.value.equals(raw), 'the value is the original bytes')
  t.equal(found.headers['dl-reason'], 'unknown schema id 7')
  t.same(JSON.parse(found.headers['dl-origin']!), { topic: 'kombo.hris.groups.v1', partition: 0, offset: '9' })
})

t.test('re-driving an unknown letter says so', async (t) => {
  const { store, cleanup } = await open()
  t.teardown(cleanup)
  await t.rejects(store.markRedriven('no-such-letter'), DeadLetterNotFoundError)
})
