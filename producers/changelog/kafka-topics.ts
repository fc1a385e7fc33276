// Topic creation shared by the change log, the dead-letter store and the user feed: create what is
// missing, accept another process's win, retry what the broker says is temporary.
import type { Kafka } from 'kafkajs'

/**
 * Creates the missing topics (another process creating them first is fine) and retries what a
 * broker says is temporary. Role processes started together race to create the same topics: the
 * loser's `waitForLeaders` can read metadata before the winner's topic reached it and get
 * UNKNOWN_TOPIC_OR_PARTITION, which kafkajs's createTopics does not retry (it failed a projector's
 * start in CI). Such an error is retried with backoff up to `deadlineMs`; anything else (a bad
 * replication factor, a rejected config) fails at once.
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: string[],
  numPartitions: number,
  replicationFactor: number,
  config: Record<string, string>,
  retry: { deadlineMs?: number; backoffMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (retry.deadlineMs ?? 30_000)
  let backoff = retry.backoffMs ?? 200
  for (;;) {
    try {
      await createMissingTopics(kafka, topics, numPartitions, replicationFactor, config)
      return
    } catch (err) {
      if ((err as { retriable?: boolean }).retriable !== true || Date.now() + backoff > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, backoff))
      backoff = Math.min(backoff * 2, 2_000)
    }
  }
}

async function createMissingTopics(
  kafka: Kafka,
  topics: string[],
  numPartitions: number,
  replicationFactor: number,
  config: Record<string, string>,
): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    const missing = topics.filter((t) => !existing.has(t))
    if (missing.length === 0) return
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions,
        replicationFactor,
        configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
      })),
    })
  } catch (err) {
    // Another process may have created them between our list and create: that is fine.
    if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err
  } finally {
    await admin.disconnect()
  }
}
