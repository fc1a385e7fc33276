// A tenant's events not yet projected: which checkpoint stands for the tenant (lone projector,
// shards, none yet), and the count from it on the SQL event store and view store (PGlite and
// PostgreSQL); the EventStoreDB adapter's count is in the event-store contract (countAll).
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { tenantCheckpoint, tenantStreamPrefixes, unprojectedEvents } from './tenant-progress.ts'
import { shardCheckpointName, shardOfCheckpoint, ownsTenant } from './shard.ts'
import { VIEWS_CHECKPOINT } from './projection.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import { openSqlViewStore } from './viewstore/sql.ts'
import { forEachSqlDriver } from '../test/support/sql-drivers.ts'
import type { EventStore } from '../processors/eventstore/port.ts'

const happened = (n: number) => Array.from({ length: n }, () => ({ id: randomUUID(), type: 'EmployeeHired', data: {} }))

t.test("a tenant's streams: every projected category, the tenant's name ended by its separator", async (t) => {
  const prefixes = tenantStreamPrefixes('acme')
  t.ok(prefixes.includes('employee-acme_') && prefixes.includes('team-acme_') && prefixes.includes('absenceType-acme_'))
  t.notOk(prefixes.some((p) => 'employee-acme-eu_1'.startsWith(p)), 'a tenant whose id starts with another’s is not counted with it')
})

t.test('shard checkpoint names parse back to their shard; other projections’ are not the views’', async (t) => {
  for (const shard of [{ index: 0, count: 1 }, { index: 2, count: 4 }]) t.same(shardOfCheckpoint(VIEWS_CHECKPOINT, shardCheckpointName(VIEWS_CHECKPOINT, shard)), shard)
  t.equal(shardOfCheckpoint(VIEWS_CHECKPOINT, 'user-feed'), null)
  t.equal(shardOfCheckpoint(VIEWS_CHECKPOINT, `${VIEWS_CHECKPOINT}@4/4`), null, 'index out of range')
  t.equal(shardOfCheckpoint(VIEWS_CHECKPOINT, `${VIEWS_CHECKPOINT}x`), null)
})

t.test("the tenant's checkpoint: the lone projector's, or its shard's; none before anything was projected", async (t) => {
  t.equal(tenantCheckpoint(new Map(), 'acme'), null, 'no checkpoint yet: count from the start')
  t.equal(tenantCheckpoint(new Map([['user-feed', 90n]]), 'acme'), null, "the feed's checkpoint is not the views'")
  t.equal(tenantCheckpoint(new Map([[VIEWS_CHECKPOINT, 40n], ['user-feed', 90n]]), 'acme'), 40n)
  const shards = new Map(Array.from({ length: 4 }, (_, index) => [shardCheckpointName(VIEWS_CHECKPOINT, { index, count: 4 }), BigInt(10 * (index + 1))]))
  const owner = [0, 1, 2, 3].find((index) => ownsTenant({ index, count: 4 }, 'acme'))!
  t.equal(tenantCheckpoint(shards, 'acme'), BigInt(10 * (owner + 1)), "with 4 shards: the owning shard's, not the others'")
  t.equal(tenantCheckpoint(new Map([...shards, [VIEWS_CHECKPOINT, 5n]]), 'acme'), BigInt(10 * (owner + 1)), 'a stale checkpoint behind it (left by another shard count) does not hold the tenant')
})

async function appendFor(store: EventStore, tenant: string, entities: number, perEntity: number) {
  let last = 0n
  for (let i = 0; i < entities; i++) last = (await store.appendToStream(`employee-${tenant}_${i}`, happened(perEntity))).position
  return last
}

forEachSqlDriver(t, (t, db) => {
  t.test("counts the tenant's events after its projector's checkpoint, up to the cap", async (t) => {
    const store = await openSqlEventStore(db)
    const views = await openSqlViewStore(db)
    t.teardown(() => store.close())
    const [big, small] = [`big${randomUUID().slice(0, 6)}`, `small${randomUUID().slice(0, 6)}`]
    const unprojected = unprojectedEvents({ store, views })
    await appendFor(store, small, 2, 1)
    const projectedTo = await appendFor(store, big, 3, 2)
    t.equal(await unprojected(small, 100), 2, 'nothing projected yet: all of its events')
    await views.transaction((tx) => tx.setCheckpoint(VIEWS_CHECKPOINT, projectedTo, null))
    t.equal(await unprojected(small, 100), 0, 'the projector passed them')
    await appendFor(store, big, 40, 3)
    await appendFor(store, small, 1, 2)
    t.equal(await unprojected(small, 100), 2, "only its own events after the checkpoint, not the big tenant's 120 between")
    t.equal(await unprojected(big, 100), 100, 'the big one: capped at upTo')
    t.equal(await unprojected(big, 1000), 120)
    t.equal(await unprojected(big, 0), 0, 'no room asked for: no question')
  })
})
