// The same employee story in production mode: simulator → a real Kafka broker with the Schema
// Registry → EventStoreDB adapter (over gRPC, on the in-process double, or a real server when
// EVENTSTORE_CONNECTION_STRING is set) → PostgreSQL views → API.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { useTestKafka } from '../support/kafka.ts'
import { testPostgresUrl } from '../support/postgres.ts'
import { startEsdbDouble } from '../support/esdb-double/index.ts'
import { controllableClock, runEmployeeStory, startTestService, startTestSimulator } from '../support/e2e-story.ts'

t.test('production mode: the employee story', async (t) => {
  const kafka = await useTestKafka(t)
  const databaseUrl = await testPostgresUrl(t)
  let eventStore = process.env.EVENTSTORE_CONNECTION_STRING
  if (!eventStore) {
    const double = await startEsdbDouble()
    t.teardown(() => double.close())
    eventStore = double.connectionString
  }
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock)
  const { service } = await startTestService(t, {
    simulator,
    clock,
    env: {
      KAFKA_BROKERS: kafka.brokers.join(','),
      SCHEMA_REGISTRY_URL: kafka.registryUrl,
      KAFKA_TOPIC_PREFIX: `e2e-${randomBytes(4).toString('hex')}.`,
      KAFKA_PARTITIONS: '3',
      EVENTSTORE_CONNECTION_STRING: eventStore,
      DATABASE_URL: databaseUrl,
    },
  })
  t.match(service.stores.describe, { changeLog: /^kafka/, eventStore: 'eventstoredb', views: 'postgresql' }, 'every port on its production adapter')
  await runEmployeeStory(t, service, simulator, clock)
})
