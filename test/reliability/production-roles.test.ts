// Production mode, every role its own process: a poller, two processors, a projector and the read
// API as child processes (bin/kombo-sync.ts <role>) on one Kafka broker + Schema Registry, the
// EventStoreDB double and one PostgreSQL database, fed by a simulator in this process. While a
// scripted stream of changes flows, one processor is killed with SIGKILL and restarted, the broker
// is stopped and started again on its data dir, and each store is taken away for a while (the
// event store, the view database, the registry). /health/ready must say 503 while a store is
// away and 200 after; at the end the streams (stream#revision:type:id) and the users equal those
// of a reference service that was never interrupted (see crash-consistency.test.ts for why the
// reference runs alongside and every change touches its own record).
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { Kafka, logLevel } from 'kafkajs'
import { startTestSimulator, startTestService, syncNow, canonicalDump, TOKEN, type StoryClock } from '../support/e2e-story.ts'
import { startChildService, type ChildService } from '../support/child-service.ts'
import { startRestartableKafka, startRestartableRegistry, startRestartableEsdbDouble } from '../support/restartable-stack.ts'
import { testPostgresUrl } from '../support/postgres.ts'
import { waitFor, settle } from '../support/wait-for.ts'
import { recordTrial } from '../support/reliability-log.ts'
import { openEsdbEventStore } from '../../processors/eventstore/esdb.ts'
import { PROCESSOR_GROUP } from '../../runtime/service.ts'
import { openStores } from '../../runtime/stores.ts'
import { loadConfig } from '../../config/config.ts'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { UserFeedPublisher } from '../../projections/user-feed/publisher.ts'
import { userFeedTopic, type UserFeedEvent } from '../../schemas/user-feed.ts'

const EMPLOYEES = 60
const TEST = 'test/reliability/production-roles.test.ts'
const realClock: StoryClock = { now: () => new Date(), advance: () => {} }
const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

async function getJson(url: string): Promise<{ status: number; body: any } | null> {
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(10_000) })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  } catch {
    return null
  }
}

async function visibleUsers(api: ChildService): Promise<any[] | null> {
  const users: any[] = []
  let cursor: string | null = null
  do {
    const r = await getJson(`${api.url}/v1/tenants/demo/users?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    if (r?.status !== 200) return null
    users.push(...r.body.data)
    cursor = r.body.next
  } while (cursor)
  return users
}

t.test('separate role processes survive kills, a broker restart and store outages without loss', async (t) => {
  const [kafka, registry, esdb, databaseUrl] = await Promise.all([
    startRestartableKafka(t),
    startRestartableRegistry(t),
    startRestartableEsdbDouble(t),
    testPostgresUrl(t),
  ])
  const dbName = new URL(databaseUrl).pathname.slice(1)
  const simulator = await startTestSimulator(t, realClock, EMPLOYEES)
  const company = simulator.integration('demo')

  // The reference: embedded, in this process, never interrupted; initial sync before any change.
  const reference = await startTestService(t, { simulator, clock: realClock, env: { POLL_INTERVAL_MS: '300' } })
  await syncNow(reference.service)

  const dataDir = mkdtempSync(join(tmpdir(), 'kombo-sync-roles-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const topicPrefix = `roles-${randomBytes(4).toString('hex')}.`
  const env = {
    DATA_DIR: dataDir,
    PORT: '0',
    DEMO_API_TOKEN: TOKEN,
    KOMBO_BASE_URL: simulator.url,
    KOMBO_API_KEY: 'roles-test-kombo-key',
    KOMBO_INTEGRATION_ID: 'demo',
    POLL_INTERVAL_MS: '300',
    CLOCK_INTERVAL_MS: '600000',
    LOG_LEVEL: 'warn',
    KAFKA_BROKERS: kafka.brokers.join(','),
    SCHEMA_REGISTRY_URL: registry.url,
    KAFKA_TOPIC_PREFIX: topicPrefix,
    KAFKA_PARTITIONS: '4',
    EVENTSTORE_CONNECTION_STRING: esdb.connectionString,
    DATABASE_URL: databaseUrl,
  }
  const children = new Set<ChildService>()
  const start = async (role: string) => {
    const child = await startChildService(env, 120_000, role)
    children.add(child)
    return child
  }
  t.teardown(async () => {
    await Promise.all([...children].map((c) => c.kill9()))
  })

  // ---- 1. every role its own process, all started at once on a fresh database -------------------
  // allSettled: a process that failed to start must not leave the others unwatched by the teardown.
  const started = await Promise.allSettled(['poller', 'processor', 'processor', 'projector', 'api'].map(start))
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed) throw failed.reason
  const [poller, processorA, , , api] = started.map((s) => (s as PromiseFulfilledResult<ChildService>).value)
  t.equal(poller.url, '', 'the poller serves no API')
  t.match(api.url, /^http:\/\//, 'the api role serves the read API')
  const total = () => company.list('employees', { includeDeleted: true }).length
  await waitFor('the initial sync through the role processes', async () => (await visibleUsers(api))?.length === total(), 120_000, 250)
  t.pass(`all ${total()} employees are users, read through the api process`)

  const admin = new Kafka({ brokers: kafka.brokers, clientId: 'roles-test', logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  let members: string[] = []
  await waitFor('both processors in the consumer group', async () => {
    const { groups } = await admin.describeGroups([`${topicPrefix}${PROCESSOR_GROUP}`])
    members = groups[0]?.state === 'Stable' ? groups[0].members.map((m) => m.memberId) : []
    return members.length === 2
  }, 60_000, 250)
  t.equal(members.length, 2, 'two processor processes are members of the one consumer group (they share the partitions)')
  const assigned = await admin.describeGroups([`${topicPrefix}${PROCESSOR_GROUP}`])
  await admin.disconnect()
  t.ok(assigned.groups[0].members.every((m) => m.memberAssignment.length > 0), 'each processor was assigned partitions')

  const sync = await getJson(`${api.url}/v1/tenants/demo/sync`)
  t.equal(sync?.status, 200, 'the api process serves sync status without running a poller')
  t.ok(sync?.body.data.some((s: { lastSuccessAt?: string }) => s.lastSuccessAt), 'written by the poller process, read from the database')
  const ready = await getJson(`${api.url}/health/ready`)
  t.equal(ready?.status, 200, 'the api process is ready')
  t.match(ready?.body.checks ?? {}, { database: { ok: true }, eventStore: { ok: true }, changeLog: { ok: true }, schemaRegistry: { ok: true } })
  recordTrial({
    fault: 'every role as its own process (poller, 2 processors, projector, api) started at once on a fresh database',
    area: 'deployment',
    mode: 'production',
    times: 1,
    outcome: 'migrations serialised; both processors in one consumer group; users and sync status served by the api process',
    lost: 'nothing',
    test: TEST,
    passed: t.passing(),
  })

  // ---- 2. a stream of changes, each to a record no other change touches -----------------------------
  const untouched = company.list('employees').map((e) => e.id as string)
  let step = 0
  const changes = setInterval(() => {
    step += 1
    if (step % 7 === 3) company.hire({ first_name: 'Roles', last_name: `Hire ${step}`, work_email: `roles-${step}@example.test`, start_date: '2020-01-01T00:00:00.000Z' })
    else {
      const id = untouched.shift()
      if (!id) return
      if (step % 5 === 4) company.remove('employees', id)
      else company.update('employees', id, { job_title: `Roles-test title ${step}` })
    }
  }, 120)
  t.teardown(() => clearInterval(changes))
  const readiness = async () => (await getJson(`${api.url}/health/ready`)) ?? { status: 0, body: null }
  /** Takes a store away, checks that the api process turns unready on it, brings it back, checks ready again. */
  const outage = async (name: string, check: string, down: () => Promise<void>, up: () => Promise<void>) => {
    await down()
    let seen: any = null
    await waitFor(`/health/ready to report ${check} down`, async () => {
      const r = await readiness()
      seen = r.body
      return r.status === 503 && r.body?.checks?.[check]?.ok === false
    }, 60_000, 250)
    t.pass(`${name}: /health/ready is 503 with ${check} not ok (${String(seen.checks[check].detail).slice(0, 80)})`)
    await settle(1500) // changes keep coming while the store is away
    await up()
    await waitFor(`/health/ready to recover after ${name}`, async () => (await readiness()).status === 200, 90_000, 250)
    t.pass(`${name}: ready again`)
  }

  // Kill -9 one processor mid-stream and start a new one.
  await settle(1500)
  await processorA.kill9()
  children.delete(processorA)
  await settle(1000)
  await start('processor')
  t.pass('processor killed with SIGKILL mid-stream and restarted')

  // The broker stopped and started again on its port and log directory.
  await outage('Kafka broker restart', 'changeLog', () => kafka.stop(), () => kafka.start())
  // The event store away (the double restarted on its port with its data).
  await outage('event store unavailable', 'eventStore', () => esdb.stop(), () => esdb.start())
  // The view database refusing connections, every open connection cut.
  const pgAdmin = new pg.Client({ connectionString: adminUrl })
  await pgAdmin.connect()
  t.teardown(() => pgAdmin.end())
  await outage(
    'view database unavailable',
    'database',
    async () => {
      await pgAdmin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`)
      await pgAdmin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [dbName])
    },
    async () => {
      await pgAdmin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`)
    },
  )
  // The Schema Registry stopped and started again (its storage survives, as a production registry's does).
  await outage('Schema Registry down', 'schemaRegistry', () => registry.stop(), () => registry.start())

  await settle(1000)
  clearInterval(changes)
  t.ok(step > 40, `${step} scripted changes were made while the faults happened`)

  // ---- 3. catch up, then compare with the uninterrupted reference -----------------------------------
  const expected = new Map(company.list('employees', { includeDeleted: true }).map((e) => [e.id as string, e]))
  let behind = ''
  await waitFor(
    'the role processes to reflect every change',
    async () => {
      const users = await visibleUsers(api)
      const stale = users?.filter((u) => u.jobTitle !== (expected.get(u.externalId)?.job_title ?? null)) ?? []
      behind = `${users?.length ?? '?'} of ${expected.size} users, ${stale.length} with an old job title`
      return users !== null && users.length === expected.size && stale.length === 0
    },
    90_000,
    250,
  ).catch((err: Error) => {
    for (const child of children) t.comment(`--- ${child.proc.spawnargs.at(-1)} ---\n${child.output().slice(-3000)}`)
    throw new Error(`${err.message} (${behind})`)
  })
  await syncNow(reference.service)
  const expectedDump = await canonicalDump(reference.service)
  const store = openEsdbEventStore(esdb.connectionString)
  t.teardown(() => store.close())
  let events: string[] = []
  await waitFor('the event store to hold as many events as the reference', async () => {
    events = (await store.readAll({ maxCount: 1_000_000 })).map((e) => `${e.streamName}#${e.revision}:${e.type}:${e.id}`).sort()
    return events.length >= expectedDump.events.length
  }, 60_000, 250)
  const users = (await visibleUsers(api))!.sort((a, b) => a.externalId.localeCompare(b.externalId))

  const missing = expectedDump.events.filter((e) => !events.includes(e))
  const extra = events.filter((e) => !expectedDump.events.includes(e))
  t.same(missing, [], 'no event of the uninterrupted run is missing (no lost change)')
  t.same(extra, [], 'no event the uninterrupted run does not have (no duplicate)')
  t.equal(new Set(events.map((e) => e.split(':').pop())).size, events.length, 'every event id appears once')
  t.same(events, expectedDump.events, 'identical streams, revisions and event ids')
  t.same(users, expectedDump.users, 'identical users through the api process')
  // ---- 4. the downstream feed: a plain kafkajs consumer with the registry client reads the topic --
  // What it must hold: the feed a fresh publisher derives from the final event store (replayed here
  // into memory). Redelivery after a fault may repeat a message; consumers dedupe on eventId.
  const inspect = await openStores(loadConfig(env, 'api', { demoToken: () => TOKEN }))
  t.teardown(() => inspect.close())
  const replayed: UserFeedEvent[] = []
  const replay = new UserFeedPublisher({
    store: inspect.eventStore,
    sink: { publish: async (feed) => void replayed.push(...feed), close: async () => {} },
    checkpoints: { checkpoint: async () => null, setCheckpoint: async () => {} },
  })
  await replay.start()
  const lastEmployeeEvent = (await inspect.eventStore.readAll({ maxCount: 1_000_000, streamPrefixes: ['employee-'] })).at(-1)!.position
  await waitFor('the replayed feed to reach the end of the store', () => replay.position === lastEmployeeEvent, 60_000, 50)
  await replay.stop()
  const expectedFeed = new Set(replayed.map((e) => e.eventId))

  const feedRegistry = new SchemaRegistry({ host: registry.url })
  const downstream = new Kafka({ brokers: kafka.brokers, clientId: 'roles-test-downstream', logLevel: logLevel.NOTHING }).consumer({ groupId: `roles-downstream-${randomBytes(4).toString('hex')}` })
  await downstream.connect()
  t.teardown(() => downstream.disconnect())
  await downstream.subscribe({ topic: userFeedTopic(topicPrefix), fromBeginning: true })
  const received = new Map<string, number>()
  await downstream.run({
    eachMessage: async ({ message }) => {
      const event = (await feedRegistry.decode(message.value!)) as UserFeedEvent
      received.set(event.eventId, (received.get(event.eventId) ?? 0) + 1)
    },
  })
  await waitFor('the downstream consumer to receive the whole feed', () => [...expectedFeed].every((id) => received.has(id)), 60_000, 100)
  t.ok(expectedFeed.size > EMPLOYEES, `${expectedFeed.size} user events expected on the feed`)
  t.same([...expectedFeed].filter((id) => !received.has(id)), [], 'the downstream consumer received every user event')
  t.same([...received.keys()].filter((id) => !expectedFeed.has(id)), [], 'and no user event the event store does not imply')
  const redelivered = [...received.values()].filter((n) => n > 1).length
  t.comment(`${redelivered} feed events were delivered more than once (deduped on eventId)`)

  for (const child of children) t.notMatch(child.output(), /unhandled|ERR_UNHANDLED|uncaught/i, 'no process crashed on an unhandled error')

  const lost = 'nothing (events and users equal an uninterrupted run)'
  const row = (fault: string, area: string, outcome: string) =>
    recordTrial({ fault, area, mode: 'production', times: 1, outcome, lost, test: TEST, passed: t.passing() })
  row('kill -9 of one of two processor processes while changes flow', 'process crash', 'the other kept its partitions, a new processor rejoined the group; at-least-once redelivery absorbed')
  row('Kafka broker stopped and restarted (same port and log dir) while changes flow', 'store fault', '/health/ready 503 (changeLog) while down; poller and processors resumed')
  row('event store (EventStoreDB double) unavailable, then back on the same port', 'store fault', '/health/ready 503 (eventStore) while down; processors and projector retried and resumed')
  row('view database refusing connections, open connections terminated, then allowed again', 'store fault', '/health/ready 503 (database) while down; projector and poller retried and resumed')
  row(
    'downstream consumer of learnamp.user-events.v1 (plain kafkajs + registry) across all the faults above',
    'downstream feed',
    `received every one of ${expectedFeed.size} user events the event store implies, once per eventId after dedupe (${redelivered} redelivered)`,
  )
  row('Schema Registry stopped and restarted (durable storage)', 'store fault', '/health/ready 503 (schemaRegistry) while down; encoding went on from cached schema ids')
})
