import t from 'tap'
import { AnalyzeSchedule, analyzeGrownTables, STATISTICS_TARGET } from './auto-analyze.ts'
import { openPgliteDatabase } from './pglite.ts'
import { openPostgresDatabase } from './postgres.ts'
import type { SqlDatabase } from './database.ts'
import { testPostgresUrl } from '../test/support/postgres.ts'
import { waitFor } from '../test/support/wait-for.ts'

const USERS = `CREATE TABLE view_users (tenant text NOT NULL, external_id text NOT NULL, doc jsonb NOT NULL,
  manager_id text, email_lower text, PRIMARY KEY (tenant, external_id));
CREATE INDEX view_users_manager ON view_users (tenant, manager_id);`

// One company: every row has the same tenant, as in an embedded install.
const addUsers = (from: number, to: number) =>
  `INSERT INTO view_users SELECT 'demo', 'e' || g, jsonb_build_object('pad', repeat('x', 300)), 'e' || (g / 10), 'u' || g || '@x.com'
     FROM generate_series(${from}, ${to - 1}) g`

// The projector's lookup of a batch's users by id (projections/viewstore/sql.ts `emailsOf`), for
// a batch of 250 users.
const LOOKUP = "EXPLAIN SELECT email_lower FROM view_users WHERE tenant = 'demo' AND external_id = ANY($1::text[])"
const BATCH = Array.from({ length: 250 }, (_, i) => `e${i * 17}`)
const planOf = async (db: { query: <R>(sql: string, params?: unknown[]) => Promise<{ rows: R[] }> }) =>
  (await db.query<{ 'QUERY PLAN': string }>(LOOKUP, [BATCH])).rows.map((r) => r['QUERY PLAN']).join('\n')

t.test('a table is analysed once it has some size, then again only after it has doubled', async (t) => {
  const db = await openPgliteDatabase(undefined, { autoAnalyze: false })
  t.teardown(() => db.close())
  await db.exec(USERS)
  await db.exec(addUsers(0, 20))
  t.same(await db.transaction((tx) => analyzeGrownTables(tx)), [], 'a few rows: not worth it')
  await db.exec(addUsers(20, 5_000))
  t.same(await db.transaction((tx) => analyzeGrownTables(tx)), ['view_users'], 'never analysed and big enough')
  t.same(await db.transaction((tx) => analyzeGrownTables(tx)), [], 'analysed, not grown')
  await db.exec(addUsers(5_000, 7_000))
  t.same(await db.transaction((tx) => analyzeGrownTables(tx)), [], 'grown by 40 %: not yet')
  await db.exec(addUsers(7_000, 11_000))
  t.same(await db.transaction((tx) => analyzeGrownTables(tx)), ['view_users'], 'more than doubled')
})

t.test('without statistics the lookup by id walks the tenant; the embedded database analyses on its own', async (t) => {
  const without = await openPgliteDatabase(undefined, { autoAnalyze: false })
  t.teardown(() => without.close())
  await without.exec(USERS)
  await without.transaction((tx) => tx.query(addUsers(0, 5_000)))
  t.match(await planOf(without), /view_users_manager/, 'the planner guesses the tenant is selective and uses the wrong index')

  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  await db.exec(USERS)
  await db.transaction((tx) => tx.query(addUsers(0, 5_000))) // a write transaction: the look is due
  await db.query('SELECT 1') // queued behind the look, which is a turn of its own
  const plan = await planOf(db)
  t.match(plan, /Index Scan on view_users_pkey|Index Scan using view_users_pkey/, 'after the automatic ANALYZE the primary key is probed')
  t.notMatch(plan, /view_users_manager/)
})

t.test('the schedule: at most once per interval, never two looks at once', async (t) => {
  let now = 10_000
  const schedule = new AnalyzeSchedule(2_000, () => now)
  t.equal(schedule.due(), true, 'first look')
  t.equal(schedule.due(), false, 'one is running')
  schedule.done()
  now += 1_999
  t.equal(schedule.due(), false, 'too soon')
  now += 1
  t.equal(schedule.due(), true, 'interval passed')
})

t.test('the schedule runs a due look in the background; a failed one waits for the next interval', async (t) => {
  let now = 10_000
  const schedule = new AnalyzeSchedule(2_000, () => now)
  let looks = 0
  let fail!: (err: Error) => void
  schedule.runIfDue(() => {
    looks += 1
    return new Promise((_, reject) => (fail = reject))
  })
  schedule.runIfDue(async () => (looks += 1))
  t.equal(looks, 1, 'not a second look while one runs')
  fail(new Error('lock timeout'))
  await schedule.idle()
  t.pass('idle() settles although the look failed')
  schedule.runIfDue(async () => (looks += 1))
  t.equal(looks, 1, 'the failed look counts: the next waits for the interval')
  now += 2_000
  schedule.runIfDue(async () => (looks += 1))
  await schedule.idle()
  t.equal(looks, 2, 'then it runs')
})

t.test('on a PostgreSQL server a new table is analysed as it grows, before autovacuum would', async (t) => {
  const url = await testPostgresUrl(t)
  const EVENTS = `CREATE TABLE events (position bigserial PRIMARY KEY, stream_name text NOT NULL, revision bigint NOT NULL,
    data jsonb NOT NULL, UNIQUE (stream_name, revision)) WITH (autovacuum_enabled = off)` // only our look analyses it
  const addEvents = (tx: { query: (sql: string) => Promise<unknown> }) =>
    tx.query(`INSERT INTO events (stream_name, revision, data)
      SELECT 'employee-acme:' || (g % 20000), g / 20000, jsonb_build_object('pad', repeat('x', 1500)) FROM generate_series(0, 99999) g`)
  // The processor's read of a batch's streams (processors/eventstore/sql.ts readStreams).
  const READ = `EXPLAIN SELECT * FROM events WHERE stream_name = ANY($1::text[]) ORDER BY stream_name, revision`
  const names = Array.from({ length: 200 }, (_, i) => `employee-acme:${i * 37}`)
  const stats = async (db: SqlDatabase) =>
    Number((await db.query<{ reltuples: number }>(`SELECT reltuples FROM pg_class WHERE relname = 'events'`)).rows[0]!.reltuples)
  const estimateOf = (plan: string) => {
    const [, cost, rows] = /cost=[\d.]+\.\.([\d.]+) rows=(\d+)/.exec(plan) ?? []
    return { cost: Number(cost), rows: Number(rows) }
  }
  const planOfRead = async (db: SqlDatabase) => (await db.query<{ 'QUERY PLAN': string }>(READ, [names])).rows.map((r) => r['QUERY PLAN']).join('\n')

  const without = await openPostgresDatabase(url, { autoAnalyze: false })
  t.teardown(() => without.close())
  await without.exec(EVENTS)
  await without.transaction(addEvents)
  t.equal(await stats(without), -1, 'never analysed: autovacuum has not come by (or is off)')
  const guessed = estimateOf(await planOfRead(without))
  t.ok(guessed.rows > 100_000, `without statistics the planner expects most of the table (${guessed.rows} rows for 1,000)`)
  await without.query('DROP TABLE events')

  const db = await openPostgresDatabase(url)
  t.teardown(() => db.close())
  await db.exec(EVENTS)
  await db.transaction(addEvents) // a write transaction: the look is due
  // pg_class's reltuples is updated in place before ANALYZE commits: wait for the statistics themselves.
  await waitFor('the automatic ANALYZE', async () => (await db.query(`SELECT 1 FROM pg_stats WHERE tablename = 'events' AND attname = 'stream_name'`)).rows.length > 0, 30_000)
  t.ok((await stats(db)) > 0, 'analysed')
  // At the small statistics target, not the server's (100): a tenth of the rows sampled.
  const { rows: [hist] } = await db.query<{ bounds: number }>(
    `SELECT array_length(histogram_bounds::text::text[], 1) AS bounds FROM pg_stats WHERE tablename = 'events' AND attname = 'stream_name'`,
  )
  t.ok(hist.bounds > 1 && hist.bounds <= STATISTICS_TARGET + 1, `a histogram of ${hist.bounds} bounds (at most ${STATISTICS_TARGET + 1})`)
  const estimate = estimateOf(await planOfRead(db))
  t.ok(estimate.rows < 10_000, `with statistics it expects about what is there (${estimate.rows} rows for 1,000)`)
  // PostgreSQL's default jit_above_cost: the guess above JIT-compiled every read of a batch's streams.
  t.ok(estimate.cost < 100_000, `and the read costs less than what makes PostgreSQL JIT-compile it (${estimate.cost})`)
})
