// The downstream user feed, run beside the projector when Kafka is configured: the publisher
// (projections/user-feed/) with the Kafka sink and its checkpoint in the view database. Without
// Kafka (the embedded default) no feed is produced: nothing downstream could read it.
import type { Config } from '../config/config.ts'
import type { Logger } from './logger.ts'
import type { Metrics } from './metrics.ts'
import type { Stores } from './stores.ts'
import { UserFeedPublisher } from '../projections/user-feed/publisher.ts'
import { sqlFeedCheckpoints } from '../projections/user-feed/checkpoints.ts'

export async function startUserFeed(
  config: Config,
  deps: { stores: Pick<Stores, 'db' | 'eventStore' | 'personalDataKeys'>; metrics: Metrics; logger: Logger },
): Promise<{ publisher: UserFeedPublisher; stop(): Promise<void> } | null> {
  if (!config.kafka) return null
  const { openKafkaUserFeedSink } = await import('../projections/user-feed/kafka.ts')
  const sink = await openKafkaUserFeedSink({
    brokers: config.kafka.brokers,
    registryUrl: config.kafka.registryUrl,
    clientId: `kombo-sync-${config.role}-user-feed`,
    topicPrefix: config.kafka.topicPrefix,
    partitions: config.kafka.partitions,
  })
  const publisher = new UserFeedPublisher({
    store: deps.stores.eventStore,
    sink,
    checkpoints: sqlFeedCheckpoints(deps.stores.db),
    // Published under the erasure lock, as the projector writes views (test/reliability/feed-erasure-race.test.ts).
    erasures: { keys: deps.stores.personalDataKeys, db: deps.stores.db },
    onPublished: ({ feedEvents, position }) => {
      deps.metrics.userFeedEvents.inc(feedEvents)
      deps.metrics.userFeedPosition.set(Number(position))
    },
    onError: (err) => deps.logger.error({ err }, 'publishing the user feed failed; retrying'),
  })
  try {
    await publisher.start()
  } catch (err) {
    await sink.close()
    throw err
  }
  deps.logger.info({ topic: sink.topic }, 'user feed publishing')
  return {
    publisher,
    async stop() {
      await publisher.stop()
      await sink.close()
    },
  }
}
