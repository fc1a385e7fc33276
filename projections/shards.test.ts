// Projectors sharded by tenant: two shards, each with its own checkpoint, must leave exactly the
// views one projector leaves (a digest of every view table and the change log); and after a
// rebalance from two shards to three, with one old shard behind, the three go on to the same views.
import t from 'tap'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import { openSqlDeadLetterStore } from '../producers/changelog/sql-dead-letters.ts'
import { openSqlViewStore, type SqlViewStore } from './viewstore/sql.ts'
import { Projector } from './projector.ts'
import { learnAmpViews, projectedStreamPrefixes, VIEWS_CHECKPOINT } from './projection.ts'
import { utcEverywhere } from './apply-events.ts'
import { rebalanceShards } from './rebalance.ts'
import { ownsTenant, parseShard, shardCheckpointName, SINGLE_SHARD, type TenantShard } from './shard.ts'
import { viewsDigest } from './views-digest.ts'
import { processChanges } from '../processors/process-changes.ts'
import { SimulatedCompany } from '../simulator/index.ts'
import { komboResources, type KomboResource } from '../schemas/kombo.ts'
import { changeKey } from '../schemas/envelope.ts'
import type { ConsumedChange } from '../producers/changelog/port.ts'
import type { EventStore, RecordedEvent } from '../processors/eventstore/port.ts'
import type { SqlDatabase } from '../sql/database.ts'
import { settingsWith } from '../test/support/tenant-settings.ts'

const now = new Date('2026-03-01T12:00:00.000Z')
const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark']

async function seeded(db: SqlDatabase) {
  const store = await openSqlEventStore(db)
  const deadLetters = await openSqlDeadLetterStore(db)
  const companies = new Map(TENANTS.map((tenant, i) => [tenant, new SimulatedCompany(20 + i, { employees: 15, teams: 3, locations: 2 }, () => now)]))
  let offset = 0
  const feed = async (tenant: string, resource: KomboResource, record: { id: string }) => {
    const value = { tenant, integrationId: 'test', resource, fetchedAt: now.toISOString(), pollId: 'test', record }
    const change = { resource, key: changeKey(tenant, record.id), partition: 0, offset: String(offset++), value, raw: Buffer.from(JSON.stringify(value)) } as ConsumedChange
    await processChanges([change], { store, deadLetters, tenantSettingsOf: () => settingsWith({ mode: 'on_start_date', daysBefore: 7 }), now: () => now })
  }
  const employeesLast = [...komboResources].sort((a) => (a === 'employees' ? 1 : -1))
  for (const [tenant, company] of companies) {
    for (const resource of employeesLast) for (const record of company.list(resource, { includeDeleted: true })) await feed(tenant, resource, record)
  }
  /** Random changes, tenants interleaved. */
  const change = async (count: number) => {
    for (let i = 0; i < count; i++) {
      const tenant = TENANTS[i % TENANTS.length]
      const company = companies.get(tenant)!
      const c = company.randomChange()
      await feed(tenant, c.resource, company.get(c.resource, c.id)!)
    }
  }
  await change(60)
  return { store, change }
}

async function lastPosition(store: EventStore): Promise<bigint> {
  const all = await store.readAll({ streamPrefixes: projectedStreamPrefixes })
  return all[all.length - 1].position
}

/**
 * Runs the projectors until each has handled everything up to the store's last event, then stops
 * them. Returns how many events each was handed, of its own tenants and of others'.
 */
async function projectAll(store: EventStore, views: SqlViewStore, shards: TenantShard[]): Promise<Array<{ own: number; others: number }>> {
  const last = await lastPosition(store)
  const received = shards.map(() => ({ own: 0, others: 0 }))
  const projectors = shards.map((shard, i) => {
    const projection = learnAmpViews(utcEverywhere, shard)
    const canHandle = (e: RecordedEvent) => {
      const handles = projection.canHandle(e)
      received[i][handles ? 'own' : 'others']++
      return handles
    }
    return new Projector({ store, views, projection: { ...projection, canHandle }, batchSize: 37 })
  })
  for (const p of projectors) await p.start()
  await Promise.all(projectors.map((p) => p.caughtUp(last)))
  for (const p of projectors) await p.stop()
  return received
}

t.test('PROJECTOR_SHARD: i/N, one projector when unset, anything else refused', async (t) => {
  t.same(parseShard(undefined), { index: 0, count: 1 })
  t.same(parseShard('1/4'), { index: 1, count: 4 })
  for (const bad of ['4/4', '1', 'a/b', '0/0', '-1/2']) t.throws(() => parseShard(bad), { name: 'InvalidShardError' }, bad)
  t.equal(shardCheckpointName(VIEWS_CHECKPOINT, { index: 0, count: 1 }), VIEWS_CHECKPOINT, 'a lone projector keeps the checkpoint it always had')
  for (const count of [2, 3, 4]) {
    for (const tenant of TENANTS) {
      const owners = Array.from({ length: count }, (_, index) => index).filter((index) => ownsTenant({ index, count }, tenant))
      t.equal(owners.length, 1, `${tenant} has exactly one owner among ${count} shards`)
    }
  }
})

t.test('two tenant shards give the views of one projector; a rebalance to three goes on from there', async (t) => {
  const db = await openPgliteDatabase()
  const [oneDb, shardedDb] = [await openPgliteDatabase(), await openPgliteDatabase()]
  t.teardown(() => Promise.all([db, oneDb, shardedDb].map((d) => d.close())))
  const { store, change } = await seeded(db)
  const two = [0, 1].map((index) => ({ index, count: 2 }))
  t.ok(TENANTS.some((x) => ownsTenant(two[0], x)) && TENANTS.some((x) => ownsTenant(two[1], x)), 'each of the two shards owns some tenants')

  const one = await openSqlViewStore(oneDb)
  const sharded = await openSqlViewStore(shardedDb)
  await projectAll(store, one, [{ index: 0, count: 1 }])
  const received = await projectAll(store, sharded, two)
  const events = (await store.readAll({ streamPrefixes: projectedStreamPrefixes })).filter((e) => learnAmpViews(utcEverywhere, SINGLE_SHARD).canHandle(e))
  for (const [i, shard] of two.entries()) {
    const own = events.filter((e) => learnAmpViews(utcEverywhere, shard).canHandle(e)).length
    t.equal(received[i].own, own, `shard ${i}/2 was handed each of its tenants' ${own} events`)
    t.ok(received[i].others <= 1, `shard ${i}/2 was handed at most one other tenant's event (the log's last), not the other ${events.length - own}: ${received[i].others}`)
  }
  const expected = await viewsDigest(oneDb)
  t.equal(await viewsDigest(shardedDb), expected, 'two shards: the same views as one projector')
  t.ok(((await one.counts()).users) >= TENANTS.length * 15, 'every tenant projected')
  t.equal(await sharded.checkpoint(VIEWS_CHECKPOINT), null, 'shards keep their own checkpoints, not the lone one')

  // More changes; only shard 0 keeps up, shard 1 is behind when the deployment goes to 3 shards.
  await change(40)
  await projectAll(store, one, [{ index: 0, count: 1 }])
  await projectAll(store, sharded, [two[0]])
  const behind = await sharded.checkpoint(shardCheckpointName(VIEWS_CHECKPOINT, two[1]))
  const ahead = await sharded.checkpoint(shardCheckpointName(VIEWS_CHECKPOINT, two[0]))
  t.ok(behind! < ahead!, 'shard 1/2 is behind shard 0/2')
  // The catch-up's reads, seen through the store: only shard 1/2's tenants' events (and at most the
  // log's last), not the other tenants' events between its checkpoint and the barrier.
  const caughtUpReads: RecordedEvent[] = []
  const watched = new Proxy(store, {
    get(target, prop) {
      if (prop === 'readAll') {
        return async (...args: Parameters<EventStore['readAll']>) => {
          const page = await target.readAll(...args)
          caughtUpReads.push(...page)
          return page
        }
      }
      const value = Reflect.get(target, prop, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  const moved = await rebalanceShards(watched, sharded, 2, 3)
  t.equal(moved.position, ahead, 'the barrier is the furthest old checkpoint')
  t.ok(moved.caughtUp > 0, `the lagging shard applied ${moved.caughtUp} events up to it`)
  const lagging = learnAmpViews(utcEverywhere, two[1])
  const between = (await store.readAll({ after: behind!, streamPrefixes: projectedStreamPrefixes })).filter((e) => e.position <= ahead!)
  const ownBetween = between.filter((e) => lagging.canHandle(e))
  t.ok(between.length - ownBetween.length > 1, `other tenants have ${between.length - ownBetween.length} events between the lagging shard's checkpoint and the barrier`)
  t.equal(moved.caughtUp, ownBetween.length, `the lagging shard applied each of its tenants' ${ownBetween.length} events up to the barrier`)
  t.same(
    caughtUpReads.filter((e) => lagging.canHandle(e)).map((e) => e.position),
    ownBetween.map((e) => e.position),
    "the catch-up read its tenants' events, once each",
  )
  const others = caughtUpReads.filter((e) => !lagging.canHandle(e))
  t.ok(others.length <= 1, `the catch-up was handed at most one other tenant's event (the log's last), not the ${between.length - ownBetween.length} between: ${others.length}`)
  for (const index of [0, 1, 2]) t.equal(await sharded.checkpoint(shardCheckpointName(VIEWS_CHECKPOINT, { index, count: 3 })), ahead, `shard ${index}/3 starts there`)
  t.equal(await sharded.checkpoint(shardCheckpointName(VIEWS_CHECKPOINT, two[1])), null, 'the old checkpoints are gone')
  t.equal(await viewsDigest(shardedDb), await viewsDigest(oneDb), 'after the rebalance: the same views')

  await change(30)
  await projectAll(store, one, [{ index: 0, count: 1 }])
  await projectAll(store, sharded, [0, 1, 2].map((index) => ({ index, count: 3 })))
  t.equal(await viewsDigest(shardedDb), await viewsDigest(oneDb), 'three shards after the rebalance: the same views')

  // And back to one projector: it takes over the lone checkpoint at the shards' position.
  await rebalanceShards(store, sharded, 3, 1)
  await change(12)
  await projectAll(store, one, [{ index: 0, count: 1 }])
  await projectAll(store, sharded, [{ index: 0, count: 1 }])
  t.equal(await viewsDigest(shardedDb), await viewsDigest(oneDb), 'back to one projector: the same views')
})
