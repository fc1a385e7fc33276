// The write floor re-inserts every row of every table exactly once (bytea, jsonb, arrays,
// timestamps and NULLs included) and leaves no copy behind. No timing is asserted.
import t from 'tap'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { measureWriteFloor } from './write-floor.ts'

t.test('every row of every table, once, and nothing left behind', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  await db.exec(`CREATE TABLE a (id bigserial PRIMARY KEY, raw bytea NOT NULL, doc jsonb, at timestamptz DEFAULT now(), n bigint, tags text[]);
    CREATE TABLE b (x text PRIMARY KEY); CREATE TABLE empty (y int)`)
  for (let i = 0; i < 2500; i++) {
    await db.query('INSERT INTO a (raw, doc, n, tags) VALUES ($1, $2, $3, $4)', [Buffer.from(`raw ${i}`), i % 7 === 0 ? null : { i, s: 'quote " and, comma' }, i, ['a', 'b,c']])
  }
  await db.query("INSERT INTO b (x) VALUES ('one'), ('two')")
  const floor = await measureWriteFloor(db)
  t.equal(floor.rows, 2502)
  t.same(floor.tables, [{ table: 'a', rows: 2500 }, { table: 'b', rows: 2 }], 'empty tables are left out')
  t.ok(floor.ms > 0)
  const { rows } = await db.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name")
  t.same(rows.map((r) => r.table_name), ['a', 'b', 'empty'], 'the copies were dropped')
})

t.test('the copies hold the same values, bytea included, also bytes that are not UTF-8', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  await db.exec(`CREATE TABLE text_bytes (id int PRIMARY KEY, raw bytea NOT NULL, doc jsonb);
    CREATE TABLE odd_bytes (id int PRIMARY KEY, raw bytea NOT NULL)`)
  for (let i = 0; i < 1200; i++) {
    await db.query('INSERT INTO text_bytes (id, raw, doc) VALUES ($1, $2, $3)', [i, Buffer.from(JSON.stringify({ i, name: 'Zoë "quoted" ✓' }), 'utf8'), { i }])
    await db.query('INSERT INTO odd_bytes (id, raw) VALUES ($1, $2)', [i, Buffer.from([0x7b, 0xff, 0x00, i % 256])])
  }
  const floor = await measureWriteFloor(db, { keepCopies: true })
  t.equal(floor.rows, 2400)
  for (const table of ['text_bytes', 'odd_bytes']) {
    const { rows } = await db.query<{ differing: number }>(
      `SELECT count(*)::int AS differing FROM (SELECT * FROM ${table} EXCEPT SELECT * FROM floor_copy_${table}) d`,
    )
    t.equal(rows[0].differing, 0, `${table}: every row copied as it was`)
  }
})
