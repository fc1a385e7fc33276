// Production mode, every role its own process: a poller, two processors, a projector and the read
// API as child processes (bin/kombo-sync.ts <role>) on one Kafka broker + Schema Registry, the
// EventStoreDB double and one PostgreSQL database, fed by a simulator in this process. While a
// scripted stream of changes flows, the poller, one processor, the projector and the api process
// are each killed with SIGKILL at a seeded random point and restarted (RELIABILITY_ROLE_KILLS
// rounds, all four roles at once in each), the broker is stopped and started again on its data
// dir, and each store is taken away for a while (the event store, the view database, the registry). /health/ready must say 503 while a store is
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
import { VIEWS_CHECKPOINT } from '../../projections/projector.ts'
import { openStores } from '../../runtime/stores.ts'
import { loadConfig } from '../../config/config.ts'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { UserFeedPublisher } from '../../projections/user-feed/publisher.ts'
import { userFeedTopic, type UserFeedEvent } from '../../schemas/user-feed.ts'

const EMPLOYEES = 60
const TEST = 'test/reliability/production-roles.test.ts'
const realClock: StoryClock = { now: () => new Date(), advance: () => {} }
const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
/** Rounds of kill -9: in each, the poller, one processor, the projector and the api are killed and restarted. */
const ROLE_KILLS = Number(process.env.RELIABILITY_ROLE_KILLS ?? 1)
// A seeded generator, so a failing run can be repeated with the same kill points.
const seed = Number(process.env.RELIABILITY_SEED ?? Date.now() % 100_000)
let state = seed
const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo))

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

t.test(`separate role processes survive kills, a broker restart and store outages without loss (seed ${seed})`, async (t) => {
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
  // `let`: each is replaced by a new process when it is killed below.
  let [poller, processorA, processorB, projector, api] = started.map((s) => (s as PromiseFulfilledResult<ChildService>).value)
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
  let made = 0 // once every employee was touched, only the hires go on
  const changes = setInterval(() => {
    step += 1
    if (step % 7 === 3) company.hire({ first_name: 'Roles', last_name: `Hire ${step}`, work_email: `roles-${step}@example.test`, start_date: '2020-01-01T00:00:00.000Z' })
    else {
      const id = untouched.shift()
      if (!id) return
      if (step % 5 === 4) company.remove('employees', id)
      else company.update('employees', id, { job_title: `Roles-test title ${step}` })
    }
    made += 1
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

  // ---- 3. kill -9 of every role at seeded random points while changes flow ----------------------
  // Each round kills the poller, the older processor, the projector and the api at once-drawn random
  // points (concurrently, so the rounds cost little wall time), leaves each down for a random while
  // (changes keep coming) and starts a new process of the role. What each must show after restart:
  // the poller polls again from its stored watermark (never moved back), the projector resumes the
  // views from their checkpoint (never moved back, no rebuild), the api serves every user it served
  // before (requests fail while it is down). The final comparison below shows nothing was lost.
  // A client of our own on the view database, to watch checkpoints and watermarks; closed before the
  // view database outage below (which terminates every connection).
  const observer = new pg.Client({ connectionString: databaseUrl })
  observer.on('error', () => {})
  await observer.connect()
  let observerOpen = true
  const closeObserver = async () => {
    if (observerOpen) await observer.end()
    observerOpen = false
  }
  t.teardown(closeObserver)
  const viewsCheckpoint = async (): Promise<bigint> => {
    const { rows } = await observer.query<{ position: string }>('SELECT position FROM projection_checkpoints WHERE name = $1', [VIEWS_CHECKPOINT])
    return rows[0] ? BigInt(rows[0].position) : -1n
  }
  const employeeSync = async () => {
    const { rows } = await observer.query<{ watermark: string | null; last_success_at: Date | null }>(
      `SELECT watermark, last_success_at FROM kombo_sync_state WHERE tenant = 'demo' AND resource = 'employees'`,
    )
    return rows[0] ?? { watermark: null, last_success_at: null }
  }
  const kill = async (victim: ChildService) => {
    await victim.kill9()
    children.delete(victim)
  }
  const figures = { pollerWatermarks: [] as string[], projectorPositions: [] as string[], apiUsers: [] as number[], refusedWhileDown: 0 }

  const crashPoller = async (at: number, down: number) => {
    await settle(at)
    const before = await employeeSync()
    await kill(poller)
    await settle(down)
    const restartedAt = Date.now()
    poller = await start('poller')
    let after = before
    await waitFor('the restarted poller to finish a poll of employees', async () => {
      after = await employeeSync()
      return (after.last_success_at?.getTime() ?? 0) >= restartedAt
    }, 60_000, 100)
    t.ok(before.watermark, `poller killed after it had stored a watermark (${before.watermark})`)
    t.ok(Date.parse(after.watermark!) >= Date.parse(before.watermark!), `the restarted poller completed a poll from there; the watermark did not move back (${after.watermark})`)
    figures.pollerWatermarks.push(`${before.watermark} -> ${after.watermark}`)
  }
  const crashProcessor = async (at: number, down: number) => {
    await settle(at)
    await kill(processorA)
    await settle(down)
    processorA = processorB
    processorB = await start('processor')
    t.pass('processor killed with SIGKILL mid-stream and restarted')
  }
  const crashProjector = async (at: number, down: number) => {
    await settle(at)
    const atKill = await viewsCheckpoint()
    await kill(projector)
    await settle(down)
    projector = await start('projector')
    const seen: bigint[] = []
    await waitFor('the restarted projector to move the views past their checkpoint at the kill', async () => {
      const position = await viewsCheckpoint()
      seen.push(position)
      return position > atKill
    }, 60_000, 50)
    t.ok(atKill >= 0n, `projector killed after it had written a checkpoint (${atKill})`)
    t.same(seen.filter((p) => p < atKill), [], `the restarted projector resumed from its checkpoint: it never went back (${atKill} -> ${seen.at(-1)})`)
    figures.projectorPositions.push(`${atKill} -> ${seen.at(-1)}`)
  }
  const crashApi = async (at: number, down: number) => {
    await settle(at)
    const before = await visibleUsers(api)
    const oldUrl = api.url
    await kill(api)
    const refused = await getJson(`${oldUrl}/v1/tenants/demo/users?limit=1`)
    t.equal(refused, null, 'a request to the killed api process fails')
    if (refused === null) figures.refusedWhileDown += 1
    await settle(down)
    api = await start('api')
    const after = await visibleUsers(api)
    t.ok(before && after, 'the api served users before the kill and after the restart')
    const served = new Set(after?.map((u) => u.externalId))
    t.same(before?.filter((u) => !served.has(u.externalId)) ?? [], [], `the restarted api serves every user served before the kill (${before?.length} then ${after?.length})`)
    figures.apiUsers.push(after?.length ?? 0)
  }
  for (let round = 0; round < ROLE_KILLS; round += 1) {
    // Drawn in a fixed order, so the seed fixes every point however the kills interleave.
    const points = ['poller', 'processor', 'projector', 'api'].map(() => [between(300, 3000), between(200, 1500)] as const)
    t.comment(`round ${round + 1}: kill at / down for (ms): ${points.map(([at, down]) => `${at}/${down}`).join(', ')} (poller, processor, projector, api)`)
    await Promise.all([crashPoller(...points[0]), crashProcessor(...points[1]), crashProjector(...points[2]), crashApi(...points[3])])
  }
  t.comment(`${made} changes made by the end of the kill rounds`)
  await closeObserver()

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
  t.ok(made > 40, `${made} scripted changes (title changes, hires, deletions) were made while the faults happened`)

  // ---- 4. catch up, then compare with the uninterrupted reference -----------------------------------
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
  // ---- 5. the downstream feed: a plain kafkajs consumer with the registry client reads the topic --
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
  const killed = (fault: string, outcome: string) =>
    recordTrial({ fault, area: 'process crash', mode: 'production', times: ROLE_KILLS, outcome, lost, test: TEST, passed: t.passing() })
  killed('kill -9 of one of two processor processes while changes flow', 'the other kept its partitions, a new processor rejoined the group; at-least-once redelivery absorbed')
  killed(
    'kill -9 of the poller process at a random point while changes flow',
    `restarted; polled again from its stored watermark, which never moved back (${figures.pollerWatermarks.join('; ')}); no change lost, no duplicate event from the re-read`,
  )
  killed(
    'kill -9 of the projector process at a random point while changes flow',
    `restarted; the views resumed from their checkpoint, never went back (positions ${figures.projectorPositions.join('; ')}), and caught up`,
  )
  killed(
    'kill -9 of the api process at a random point while changes flow',
    `requests failed while it was down (${figures.refusedWhileDown} of ${ROLE_KILLS} checked); the restarted process served every user served before (${figures.apiUsers.join(', ')} users) and at the end the same users as the reference`,
  )
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
