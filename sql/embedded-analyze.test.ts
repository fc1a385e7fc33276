import t from 'tap'
import { AnalyzeSchedule, analyzeGrownTables } from './embedded-analyze.ts'
import { openPgliteDatabase } from './pglite.ts'

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
