// The chaos soak's feed verification (issue 12): reads the user-feed topic from the beginning as a
// downstream consumer would (registry-decoded, schema-checked), replays the soak's own employee
// streams and the clean sync's through the publisher's mapping, and checks the one against the
// others (scripts/soak-feed-check.ts says what a gap, a redelivery and a mismatch are).
//
// Both event stores must be the decrypting ones (runtime/stores.ts `eventStore`): the feed carries
// personal fields in clear, the streams hold them encrypted.
import { Kafka, logLevel } from 'kafkajs'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { randomBytes } from 'node:crypto'
import type { EventStore, RecordedEvent } from '../processors/eventstore/port.ts'
import { UserFeedEvent } from '../schemas/user-feed.ts'
import { checkFeed, lastStates, replayFeed, type FeedCheck } from './soak-feed-check.ts'

export interface FeedReport extends FeedCheck {
  topic: string
  /** Feed events the soak's own history implies (distinct ids). */
  expectedEvents: number
  /** Users of the clean replay. */
  referenceUsers: number
  /** Values the registry client could not decode or the schema refused (each also a mismatch). */
  undecodable: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Every employee event, in global order, paged (an adapter's single read may be bounded). */
export async function employeeHistory(store: EventStore): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = []
  let after: bigint | undefined
  for (;;) {
    const page = await store.readAll({ after, maxCount: 5000, streamPrefixes: ['employee-'] })
    if (page.length === 0) return out
    out.push(...page)
    after = page[page.length - 1].position
  }
}

export async function verifyFeed(options: {
  brokers: string[]
  registryUrl: string
  topic: string
  /** The soak's event store (decrypting). */
  history: EventStore
  /** The clean sync's event store (decrypting). */
  reference: EventStore
  /** How long the publisher may take to publish everything the history implies. */
  timeoutMs: number
  log: (line: string) => void
}): Promise<FeedReport> {
  const expected = replayFeed(await employeeHistory(options.history))
  const reference = lastStates(replayFeed(await employeeHistory(options.reference)))
  const kafka = new Kafka({ brokers: options.brokers, clientId: 'soak-feed-check', logLevel: logLevel.NOTHING })
  const registry = new SchemaRegistry({ host: options.registryUrl })
  const admin = kafka.admin()
  const consumer = kafka.consumer({ groupId: `soak-feed-check-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 200 })
  const delivered: UserFeedEvent[] = []
  const nextOffset = new Map<number, bigint>()
  const undecodable: string[] = []
  try {
    await admin.connect()
    await consumer.connect()
    await consumer.subscribe({ topic: options.topic, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        try {
          delivered.push(UserFeedEvent.parse(await registry.decode(message.value!)))
        } catch (err) {
          undecodable.push(`partition ${partition} offset ${message.offset}: ${(err as Error).message.slice(0, 200)}`)
        }
        nextOffset.set(partition, BigInt(message.offset) + 1n)
      },
    })
    const deadline = Date.now() + options.timeoutMs
    let check: FeedCheck
    for (;;) {
      // Checked only once everything on the topic now has been read, so the counts are the topic's.
      const ends = await admin.fetchTopicOffsets(options.topic).catch(() => null)
      const caughtUp = ends !== null && ends.every((p) => BigInt(p.high) === BigInt(p.low) || (nextOffset.get(p.partition) ?? 0n) >= BigInt(p.high))
      if (caughtUp) {
        check = checkFeed({ delivered: [...delivered], expected, reference })
        if (check.ok || Date.now() > deadline) break
      } else if (Date.now() > deadline) {
        check = checkFeed({ delivered: [...delivered], expected, reference })
        check.problems.unshift('the topic was not read to its end before the deadline')
        break
      }
      await sleep(1000)
    }
    options.log(`feed: ${check.feedEvents} events read, ${check.users} users, ${check.redeliveries} redeliveries dropped, ${check.gaps} missing, ${check.mismatches} mismatches`)
    return {
      ...check,
      mismatches: check.mismatches + undecodable.length,
      problems: [...undecodable.slice(0, 10), ...check.problems].slice(0, 50),
      ok: check.ok && undecodable.length === 0,
      topic: options.topic,
      expectedEvents: new Set(expected.map((e) => e.eventId)).size,
      referenceUsers: reference.size,
      undecodable: undecodable.length,
    }
  } finally {
    await consumer.disconnect().catch(() => {})
    await admin.disconnect().catch(() => {})
  }
}
