// The production rows of `npm run bench` on a small company: on the EventStoreDB double and on
// PostgreSQL with its write floor, and role-memory (roles apart) on PostgreSQL as the event store
// with its write floor, each with sane figures, and no throw-away database left behind.
// Starts its own Kafka + registry (bench/production.ts) and needs PostgreSQL (TEST_DATABASE_URL).
// No timing is asserted. Not part of `npm test` (bench/** is excluded): `npx tap bench/production.test.ts`.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import pg from 'pg'
import { benchProductionSync, startProductionStack } from './production.ts'
import { benchProductionPostgresSync } from './production-postgres.ts'
import { benchRoleMemory } from './roles.ts'
import { benchFairness } from './fairness.ts'

const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

async function databasesNamed(prefix: string): Promise<string[]> {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix])
    return rows.map((r) => r.datname)
  } finally {
    await admin.end()
  }
}

t.test('production rows on the gRPC double and on PostgreSQL against its write floor, roles apart on PostgreSQL', async (t) => {
  // A prefix of this test's own, so that other benches' databases on the same server do not count.
  const prefix = `kombo_sync_bench_t${randomBytes(4).toString('hex')}_`
  const stack = await startProductionStack(adminUrl, { databasePrefix: prefix })
  t.teardown(() => stack.stop())

  const double = await benchProductionSync(stack, [300], [])
  const postgres = await benchProductionPostgresSync(stack, [300])
  const roles = await benchRoleMemory(stack, [300], 'postgres')
  const tenants = await benchFairness({ production: 1, postgresEvents: 1, big: 0, tenants: 3, employees: 40, compare: 0 }, stack)

  t.equal(double.length, 1, 'one row on the double')
  t.match(double[0], { benchmark: 'initial sync', scenario: /^300 employees, production, EventStoreDB adapter on the gRPC double/, unit: 'records/s' })
  t.ok(double[0].value > 0 && double[0].baseline!.value > 0, 'positive rate and baseline')
  t.match(double[0].note, /raw kafkajs produce\+consume .*batches of 1,000/)

  t.equal(postgres.length, 1, 'one row on PostgreSQL')
  const row = postgres[0]
  t.match(row, { benchmark: 'initial sync', scenario: /^300 employees, production on PostgreSQL/, unit: 'records/s', baseline: { unit: 'records/s', label: /^write floor: the [\d,]+ rows/ } })
  t.ok(row.value > 0, 'positive rate')
  t.ok(row.baseline!.value > 0, 'positive floor rate')
  // records/s of pipeline time over records/s of floor time: floor time / pipeline time.
  const ratio = row.value / row.baseline!.value
  t.ok(ratio > 0 && Number.isFinite(ratio), `floor / pipeline ${ratio} in (0, ∞)`)
  const noted = /floor \/ pipeline (\d+\.\d+)×/.exec(row.note ?? '')
  t.ok(noted, 'the note gives floor / pipeline')
  t.equal(Number(noted![1]), Number(ratio.toFixed(2)), 'the note says the ratio the columns give')
  const floorRows = Number(/the ([\d,]+) rows/.exec(row.baseline!.label)![1].replaceAll(',', ''))
  t.ok(floorRows > 300, `the floor re-inserted the sync's rows (${floorRows})`)
  t.match(row.note, /\bevents \d/, 'the floor has the events table')
  t.match(row.note, /raw kafkajs produce\+consume of \d+ messages .*batches of 1,000/)

  t.same(roles.map((r) => /^kombo-sync (\w+),/.exec(r.scenario)?.[1]), ['poller', 'processor', 'projector', 'api'], 'one row per role')
  for (const r of roles) {
    t.match(r, { benchmark: 'peak RSS per role', scenario: /^kombo-sync \w+, 300 employees, production \(each role its own process, 8 partitions, PostgreSQL event store and views\)$/, unit: 'MB VmHWM' })
    t.ok(r.value > 0, `${r.scenario}: positive peak RSS`)
    t.match(r.note, /300 users listed through the api process/)
    t.match(r.note, /floor \/ pipeline \d+\.\d+× \(floor \d+\.\d s: events [\d,]+.*\) to the api listing/, 'the write floor of the sync, with the events table')
  }

  t.equal(tenants.length, 1, 'one many-tenants row')
  t.match(tenants[0], { benchmark: 'fairness', scenario: /^production \(PostgreSQL event store and views\): 3 tenants × 40 employees synced at once/, unit: 's' })
  t.ok(tenants[0].value > 0, 'positive time')
  const users = Number(/^(\d+) users, /.exec(tenants[0].note ?? '')?.[1])
  t.ok(users >= 120, `every tenant's employees are users (${users})`)

  t.same(await databasesNamed(prefix), [], 'every throw-away database was dropped')
})
