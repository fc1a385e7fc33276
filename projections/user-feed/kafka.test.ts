// The user feed on a real broker + Apicurio registry (useTestKafka): a downstream consumer written
// as a user would write it (plain kafkajs + @kafkajs/confluent-schema-registry) gets every user
// event of a small company's history, across a publisher restart and a crash between produce and
// checkpoint, exactly once per event id (re-sent ones identical), in order per user.
// Also the change log's `replay` on Kafka (it needs the same broker).
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel } from 'kafkajs'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { useTestKafka } from '../../test/support/kafka.ts'
import { waitFor, settle } from '../../test/support/wait-for.ts'
import { companyPhase } from '../../test/support/employee-history.ts'
import { replayIsIdempotent } from '../../test/support/change-log-replay.ts'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openSqlEventStore } from '../../processors/eventstore/sql.ts'
import { openSqlViewStore } from '../viewstore/sql.ts'
import { UserFeedEvent } from '../../schemas/user-feed.ts'
import { openKafkaChangeLog } from '../../producers/changelog/kafka.ts'
import { openSqlDeadLetterStore } from '../../producers/changelog/sql-dead-letters.ts'
import { ConsumerGroupActiveError, replayKafkaChangeLog } from '../../producers/changelog/replay.ts'
import { openKafkaUserFeedSink } from './kafka.ts'
import { sqlFeedCheckpoints } from './checkpoints.ts'
import { UserFeedPublisher } from './publisher.ts'
import { expectedFeed } from '../../test/support/expected-feed.ts'
import type { FeedCheckpointStore } from './port.ts'

const { brokers, registryUrl } = await useTestKafka(t)
const topicPrefix = `test-${randomBytes(4).toString('hex')}.`

t.test('a downstream consumer gets every user event once per event id, across a restart and a crash before the checkpoint', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlEventStore(db, { pollIntervalMs: 10 })
  await openSqlViewStore(db)
  const real = sqlFeedCheckpoints(db)
  let failCheckpoints = 0
  const checkpoints: FeedCheckpointStore = {
    checkpoint: (n) => real.checkpoint(n),
    async setCheckpoint(n, p) {
      if (failCheckpoints > 0) {
        failCheckpoints--
        throw new Error('crash between produce and checkpoint')
      }
      await real.setCheckpoint(n, p)
    },
  }
  const sink = await openKafkaUserFeedSink({ brokers, registryUrl, clientId: 'feed-test', topicPrefix, partitions: 3 })
  t.teardown(() => sink.close())

  // ---- the downstream consumer, as a user writes it -------------------------------------------
  const kafka = new Kafka({ brokers, clientId: 'downstream', logLevel: logLevel.NOTHING })
  const registry = new SchemaRegistry({ host: registryUrl })
  const consumer = kafka.consumer({ groupId: `${topicPrefix}downstream`, maxWaitTimeInMs: 200 })
  await consumer.connect()
  t.teardown(() => consumer.disconnect())
  await consumer.subscribe({ topic: sink.topic, fromBeginning: true })
  const received: Array<{ key: string; partition: number; event: UserFeedEvent }> = []
  const decodeErrors: string[] = []
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      try {
        const event = UserFeedEvent.parse(await registry.decode(message.value!))
        received.push({ key: message.key!.toString(), partition, event })
      } catch (err) {
        decodeErrors.push((err as Error).message)
        throw err
      }
    },
  })

  // ---- a small company's history, with the publisher stopped and crashing in between ---------
  const publish = () => new UserFeedPublisher({ store, sink, checkpoints, batchSize: 10, flushAfterMs: 5 })
  await companyPhase(store, 'acme', 0, 10)
  const first = publish()
  await first.start()
  await companyPhase(store, 'acme', 1, 10) // while it runs
  await first.stop() // mid-stream: wherever it got to
  t.ok((await real.checkpoint('user-feed')) !== null, 'the first publisher checkpointed')
  await companyPhase(store, 'acme', 2, 10)

  failCheckpoints = 2 // the next batches reach Kafka but not the checkpoint: they are sent again
  const second = publish()
  await second.start()
  t.teardown(() => second.stop())
  const end = (await store.readAll()).at(-1)!.position
  await waitFor('the publisher caught up', () => second.position === end, 30_000)

  const expected = await expectedFeed(store)
  const expectedIds = new Set(expected.map((e) => e.eventId))
  await waitFor('every event id consumed', () => decodeErrors.length > 0 || expectedIds.size === new Set(received.map((r) => r.event.eventId)).size, 30_000)
  t.same(decodeErrors, [], 'a plain registry client decodes every value')
  await settle(300)

  const first_ = new Map<string, (typeof received)[number]>()
  let duplicates = 0
  for (const r of received) {
    const seen = first_.get(r.event.eventId)
    if (seen) {
      duplicates++
      t.same(r.event, seen.event, 'a re-sent event is identical')
      t.equal(r.partition, seen.partition, 'and lands in the same partition')
    } else first_.set(r.event.eventId, r)
  }
  t.ok(duplicates > 0, 'the crash before the checkpoint re-sent a batch')
  t.same([...first_.keys()].sort(), [...expectedIds].sort(), 'no event id missing, none unexpected')
  t.ok(received.every((r) => r.key === `${r.event.tenant}:${r.event.userId}`), 'keyed by tenant:userId')

  // Per user, first deliveries arrive in event-store order.
  const lastByUser = new Map<string, bigint>()
  let ordered = true
  for (const r of first_.values()) {
    const pos = BigInt(r.event.sourcePosition)
    if ((lastByUser.get(r.key) ?? -1n) > pos) ordered = false
    lastByUser.set(r.key, pos)
  }
  t.ok(ordered, 'each user\'s events arrive in order')
  t.ok(expected.some((e) => e.type === 'UserUpdated') && expected.some((e) => e.type === 'UserDeleted') && expected.some((e) => e.type === 'UserInvited'))
})

t.test('replay on Kafka: from offset 0 re-delivers every record and appends nothing new; refused while the group runs', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlEventStore(db)
  const deadLetters = await openSqlDeadLetterStore(db)
  const replayPrefix = `${topicPrefix}replay.`
  const changeLog = await openKafkaChangeLog({ brokers, registryUrl, clientId: 'replay-test', topicPrefix: replayPrefix, partitions: 2, retryBackoffMs: 50, maxWaitTimeMs: 200 })
  t.teardown(() => changeLog.close())
  const options = { brokers, clientId: 'replay-test-admin', topicPrefix: replayPrefix }
  await replayIsIdempotent(t, { changeLog, store, deadLetters, group: 'processor' }, (from) => replayKafkaChangeLog(options, 'processor', from, ['employees']))

  const running = await changeLog.consume('processor', async () => {}, { resources: ['employees'] })
  t.teardown(() => running.stop())
  await waitFor('the group has a member', async () => {
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    const { groups } = await admin.describeGroups([`${replayPrefix}processor`])
    await admin.disconnect()
    return groups[0]?.members.length > 0
  }, 30_000, 200)
  await t.rejects(replayKafkaChangeLog(options, 'processor', { offset: 0n }, ['employees']), ConsumerGroupActiveError)
})
