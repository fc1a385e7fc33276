// The event-store contract on the SQL adapter, on embedded PGlite and on the PostgreSQL server.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { openSqlEventStore } from './sql.ts'
import { forEachSqlDriver } from '../../test/support/sql-drivers.ts'
import { runEventStoreContract } from '../../test/contracts/event-store.contract.ts'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { streamTenantHash } from './tenant-shard.ts'
import { parseStreamName } from '../../schemas/streams.ts'

forEachSqlDriver(t, (t, db, name) => {
// One database per driver; every subtest opens its own store on it (the contract uses fresh
// stream names), which keeps the suite fast.

  runEventStoreContract(t, async () => {
    const store = await openSqlEventStore(db, { pollIntervalMs: 20 })
    return { store, cleanup: () => store.close() }
  })

  t.test('a second store on the same database sees the first one’s events (no in-process wake-up needed)', async (t) => {
    const writer = await openSqlEventStore(db)
    const reader = await openSqlEventStore(db, { pollIntervalMs: 10 })
    t.teardown(() => Promise.all([writer.close(), reader.close()]))
    const prefix = `other${randomUUID().slice(0, 8)}-`
    const seen: string[] = []
    reader.subscribeToAll({ streamPrefixes: [prefix] }, async (e) => {
      seen.push(e.id)
    })
    const id = randomUUID()
    await writer.appendToStream(`${prefix}1`, [{ id, type: 'Happened', data: {} }])
    const deadline = Date.now() + 10_000
    while (!seen.includes(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    t.same(seen, [id])
  })

  t.test('readAll withoutData: no payload leaves the database, on a shard read too', async (t) => {
    const store = await openSqlEventStore(db)
    t.teardown(() => store.close())
    const prefix = `bare${randomUUID().slice(0, 8)}-`
    await store.appendToStream(`${prefix}1`, [{ id: randomUUID(), type: 'Happened', data: { secret: 'x'.repeat(100) }, metadata: { pollId: 'p' } }])
    const [full] = await store.readAll({ streamPrefixes: [prefix] })
    t.same(full.data, { secret: 'x'.repeat(100) }, 'a plain read has the payload')
    const [bare] = await store.readAll({ streamPrefixes: [prefix], withoutData: true })
    t.same([bare.data, bare.metadata], [{}, {}], 'withoutData: empty data and metadata')
    t.same([bare.position, bare.streamName, bare.type], [full.position, full.streamName, full.type])
    const [shard] = await store.readAll({ streamPrefixes: [prefix], withoutData: true, tenantShard: { index: 0, count: 1 } })
    t.same(shard?.data, {}, 'the shard read leaves it out as well')
  })

  t.test('a handler that throws ends the subscription and reports through onError', async (t) => {
    const store = await openSqlEventStore(db, { pollIntervalMs: 10 })
    t.teardown(() => store.close())
    const prefix = `failing${randomUUID().slice(0, 8)}-`
    await store.appendToStream(`${prefix}1`, [1, 2].map((i) => ({ id: randomUUID(), type: 'Happened', data: { i } })))
    let calls = 0
    const reported = new Promise<Error>((resolve) => {
      store.subscribeToAll({ streamPrefixes: [prefix], onError: resolve }, async () => {
        calls++
        throw new Error('projection broke')
      })
    })
    const err = await reported
    t.equal(err.message, 'projection broke')
    t.equal(calls, 1, 'no further event was delivered after the failure')
  })

  t.test('append rate, measured in passing (no assertion on speed)', async (t) => {
    const store = await openSqlEventStore(db)
    t.teardown(() => store.close())
    const prefix = `rate${randomUUID().slice(0, 8)}-`
    const n = 300
    const started = performance.now()
    for (let i = 0; i < n; i++) {
      await store.appendToStream(`${prefix}${i % 30}`, [{ id: randomUUID(), type: 'Happened', data: { i } }])
    }
    const seconds = (performance.now() - started) / 1000
    t.comment(`${name}: ${Math.round(n / seconds)} single-event appends/s`)
    const batchStarted = performance.now()
    await store.appendToStream(`${prefix}batch`, Array.from({ length: 1000 }, (_, i) => ({ id: randomUUID(), type: 'Happened', data: { i } })))
    t.comment(`${name}: one 1000-event append in ${Math.round(performance.now() - batchStarted)} ms`)
    t.equal((await store.readAll({ streamPrefixes: [prefix] })).length, n + 1000)
  })
})

t.test('tenant_hash: set at append, and filled in for rows of a store made before the column', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  // The table as it was before tenant_hash, with rows of tenants' and of other streams.
  await db.query(`CREATE TABLE events (
    position bigserial PRIMARY KEY, stream_name text NOT NULL, revision bigint NOT NULL, event_id uuid NOT NULL, type text NOT NULL,
    data jsonb NOT NULL, metadata jsonb NOT NULL DEFAULT '{}', recorded_at timestamptz NOT NULL DEFAULT now(), UNIQUE (stream_name, revision))`)
  const old = ['employee-acme_e1', 'absenceType-globex-eu_t1', 'absence-globex-eu_a_1', 'team-x9_t', 'clock-acme', 'foreign-stream', '$system', 'employee-Upper_x']
  for (const name of old) await db.query("INSERT INTO events (stream_name, revision, event_id, type, data) VALUES ($1, 0, $2, 'Old', '{}')", [name, randomUUID()])
  const store = await openSqlEventStore(db)
  t.teardown(() => store.close())
  await store.appendToStream('employee-initech_e2', [{ id: randomUUID(), type: 'New', data: {} }])
  await store.appendToStreams([{ streamName: 'team-initech_t2', events: [{ id: randomUUID(), type: 'New', data: {} }] }, { streamName: 'other-stream', events: [{ id: randomUUID(), type: 'New', data: {} }] }])
  const { rows } = await db.query<{ stream_name: string; tenant_hash: string | null }>('SELECT stream_name, tenant_hash FROM events ORDER BY position')
  t.equal(rows.length, old.length + 3)
  for (const row of rows) {
    const expected = streamTenantHash(row.stream_name)
    t.equal(row.tenant_hash === null ? null : Number(row.tenant_hash), expected, `${row.stream_name}: ${expected === null ? 'no tenant' : `the hash of ${parseStreamName(row.stream_name)!.tenant}`}`)
  }
  t.ok(rows.filter((r) => r.tenant_hash !== null).length >= 6, "the tenants' streams have a hash")
  await openSqlEventStore(db) // migrating again changes nothing
  const again = await db.query<{ tenant_hash: string | null }>('SELECT tenant_hash FROM events ORDER BY position')
  t.same(again.rows.map((r) => r.tenant_hash), rows.map((r) => r.tenant_hash))
})
