// A real Kafka broker + Schema Registry for a test file. When a wrapper (scripts/test-with-stack.ts)
// already started one for the whole run, TEST_KAFKA_BROKERS / TEST_SCHEMA_REGISTRY_URL point at it
// and tests share it (each test uses its own topic prefix / group ids); otherwise this file starts
// its own pair (~10 s, ~600 MB RSS) and stops it in teardown.
import { startKafka, startSchemaRegistry } from '../../infra/local-stack.ts'

export interface TestKafka {
  brokers: string[]
  registryUrl: string
}

export async function useTestKafka(t: { teardown: (fn: () => unknown) => void }): Promise<TestKafka> {
  const sharedBrokers = process.env.TEST_KAFKA_BROKERS
  const sharedRegistry = process.env.TEST_SCHEMA_REGISTRY_URL
  if (sharedBrokers && sharedRegistry) {
    return { brokers: sharedBrokers.split(',').map((b) => b.trim()).filter(Boolean), registryUrl: sharedRegistry }
  }
  const cacheDir = process.env.KOMBO_SYNC_STACK_DIR || undefined
  const [kafka, registry] = await Promise.allSettled([startKafka({ cacheDir }), startSchemaRegistry({ cacheDir })])
  const stopAll = async () => {
    await Promise.all([
      kafka.status === 'fulfilled' ? kafka.value.stop() : undefined,
      registry.status === 'fulfilled' ? registry.value.stop() : undefined,
    ])
  }
  if (kafka.status === 'rejected' || registry.status === 'rejected') {
    await stopAll()
    throw kafka.status === 'rejected' ? kafka.reason : (registry as PromiseRejectedResult).reason
  }
  t.teardown(stopAll)
  return { brokers: kafka.value.brokers, registryUrl: registry.value.url }
}
