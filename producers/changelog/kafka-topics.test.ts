// ensureTopics without a broker: an admin stand-in that answers as kafkajs does, to pin down which
// errors are retried (the broker's temporary ones) and which fail at once. The race it exists for
// runs against the real broker in kafka.test.ts.
import t from 'tap'
import type { Kafka } from 'kafkajs'
import { ensureTopics } from './kafka-topics.ts'

class BrokerSaid extends Error {
  constructor(readonly type: string, readonly retriable: boolean) {
    super(type)
  }
}

/** A Kafka whose admin lists `existing` and answers createTopics with the next of `answers` (then succeeds). */
function fakeKafka(answers: Array<Error | null>) {
  const existing = new Set<string>()
  const calls = { created: 0, connected: 0, disconnected: 0 }
  const kafka = {
    admin: () => ({
      connect: async () => void calls.connected++,
      disconnect: async () => void calls.disconnected++,
      listTopics: async () => [...existing],
      createTopics: async ({ topics }: { topics: Array<{ topic: string }> }) => {
        calls.created++
        for (const { topic } of topics) existing.add(topic)
        const answer = answers.shift()
        if (answer) throw answer
        return true
      },
    }),
  } as unknown as Kafka
  return { kafka, calls, existing }
}

t.test('a temporary broker error is retried until the topics exist', async (t) => {
  // The topic reached the controller but not yet the broker asked for leaders: kafkajs gives up.
  const { kafka, calls, existing } = fakeKafka([new BrokerSaid('UNKNOWN_TOPIC_OR_PARTITION', true)])
  await ensureTopics(kafka, ['a', 'b'], 3, 1, {}, { backoffMs: 1 })
  t.same([...existing].sort(), ['a', 'b'])
  t.equal(calls.created, 1, 'the second try finds both topics listed and creates nothing')
  t.equal(calls.connected, 2)
  t.equal(calls.disconnected, 2, 'every admin it connected is disconnected')
})

t.test('another process creating the topics first is fine', async (t) => {
  const { kafka, calls } = fakeKafka([new BrokerSaid('TOPIC_ALREADY_EXISTS', false)])
  await ensureTopics(kafka, ['a'], 3, 1, {}, { backoffMs: 1 })
  t.equal(calls.created, 1)
})

t.test('an error no retry can help fails at once', async (t) => {
  const { kafka, calls } = fakeKafka([new BrokerSaid('INVALID_REPLICATION_FACTOR', false)])
  await t.rejects(ensureTopics(kafka, ['a'], 3, 5, {}, { backoffMs: 1 }), { message: 'INVALID_REPLICATION_FACTOR' })
  t.equal(calls.created, 1)
})

t.test('a temporary error that lasts past the deadline is thrown', async (t) => {
  const answers = Array.from({ length: 1000 }, () => new BrokerSaid('LEADER_NOT_AVAILABLE', true))
  const { kafka } = fakeKafka(answers)
  // Every try lists nothing new: the stand-in keeps the topic out while the broker says "not yet".
  const admin = kafka.admin.bind(kafka)
  ;(kafka as unknown as { admin: () => unknown }).admin = () => ({ ...admin(), listTopics: async () => [] })
  await t.rejects(ensureTopics(kafka, ['a'], 3, 1, {}, { deadlineMs: 100, backoffMs: 10 }), { message: 'LEADER_NOT_AVAILABLE' })
  const tries = 1000 - answers.length
  // Backoff 10, 20, 40, 80 ms: at most 4 pauses fit in 100 ms.
  t.ok(tries > 1 && tries <= 5, `it tried more than once and stopped at the deadline (${tries} tries)`)
})
