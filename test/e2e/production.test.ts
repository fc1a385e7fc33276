// The same employee story in production mode: simulator → a real Kafka broker with the Schema
// Registry → EventStoreDB adapter (over gRPC, on the in-process double, or a real server when
// EVENTSTORE_CONNECTION_STRING is set) → PostgreSQL views → API.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { useTestKafka } from '../support/kafka.ts'
import { testPostgresUrl } from '../support/postgres.ts'
import { startEsdbDouble } from '../support/esdb-double/index.ts'
import { apiClient, controllableClock, runEmployeeStory, startTestService, startTestSimulator, syncNow } from '../support/e2e-story.ts'
import { databaseDump, eventStoreText, kafkaTopicsText } from '../support/no-trace.ts'
import { sensitiveEmployeeFields, tracesIn } from '../support/sensitive-fields.ts'

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
  const prefix = `e2e-${randomBytes(4).toString('hex')}.`
  const { service } = await startTestService(t, {
    simulator,
    clock,
    env: {
      KAFKA_BROKERS: kafka.brokers.join(','),
      SCHEMA_REGISTRY_URL: kafka.registryUrl,
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_PARTITIONS: '3',
      EVENTSTORE_CONNECTION_STRING: eventStore,
      DATABASE_URL: databaseUrl,
    },
  })
  t.match(service.stores.describe, { changeLog: /^kafka/, eventStore: 'eventstoredb', views: 'postgresql' }, 'every port on its production adapter')
  await runEmployeeStory(t, service, simulator, clock)

  // Data minimisation on the production adapters: an employee whose Kombo record carries every
  // sensitive field leaves no trace in any Kafka topic (change log, dead letters, user feed), the
  // PostgreSQL tables or the EventStoreDB events.
  const someone = simulator.integration('demo').list('employees')[1]!
  simulator.integration('demo').update('employees', someone.id, { ...structuredClone(sensitiveEmployeeFields), job_title: 'Minimised Engineer' })
  await syncNow(service)
  t.equal((await apiClient(service).user(someone.id))?.jobTitle, 'Minimised Engineer', 'the record came through')
  const { topics, text } = await kafkaTopicsText(kafka.brokers, prefix)
  t.ok(text.includes(someone.id), `the topics hold the employee (searched ${topics.join(', ')})`)
  t.same(tracesIn(text), [], 'no sensitive value or key in any Kafka topic')
  for (const [table, dump] of Object.entries(await databaseDump(service))) t.same(tracesIn(dump), [], `PostgreSQL table ${table}`)
  t.same(tracesIn(await eventStoreText(service)), [], 'the EventStoreDB events, decrypted')
})
