// A rebuild folds thousands of events per view transaction; the live projector a few at a time.
// Both must leave exactly the same views: every user document and index column, every folded
// state, every team, location and HR record, the audit change log (a digest of them all) and the
// checkpoint.
import t from 'tap'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import { openSqlDeadLetterStore } from '../producers/changelog/sql-dead-letters.ts'
import { openSqlViewStore, type SqlViewStore } from './viewstore/sql.ts'
import { utcEverywhere } from './apply-events.ts'
import { learnAmpViews } from './projection.ts'
import { dumpViews, viewsDigest } from './views-digest.ts'
import { Projector, VIEWS_CHECKPOINT, projectedStreamPrefixes } from './projector.ts'
import { processChanges } from '../processors/process-changes.ts'
import { SimulatedCompany } from '../simulator/index.ts'
import { komboResources, type KomboResource } from '../schemas/kombo.ts'
import { changeKey } from '../schemas/envelope.ts'
import type { ConsumedChange } from '../producers/changelog/port.ts'
import type { SqlDatabase } from '../sql/database.ts'
import type { EventStore } from '../processors/eventstore/port.ts'
import type { Stores } from '../runtime/stores.ts'
import { rebuildViews, REBUILD_BATCH_SIZE } from '../runtime/admin.ts'
import { createLogger } from '../runtime/logger.ts'
import { settingsWith } from '../test/support/tenant-settings.ts'

const TENANT = 'acme'
const now = new Date('2026-03-01T12:00:00.000Z')

/** A seeded company's records, then a stream of changes to them, folded into the event store. */
async function seededStore(db: SqlDatabase): Promise<{ store: EventStore; shared: string[]; fixed: string; manager: string }> {
  const store = await openSqlEventStore(db)
  const deadLetters = await openSqlDeadLetterStore(db)
  const company = new SimulatedCompany(11, { employees: 80, teams: 5, locations: 3 }, () => now)
  let offset = 0
  // Decided at one instant after every record's changed_at, as a processor decides when it reads
  // them. A user is then computed as of its own last decided event whichever change recomputes it
  // (its own, or its manager's, team's or location's), so start and leave dates between a record's
  // changed_at and the decision cannot make the views depend on which events shared a batch
  // (they did before the views kept each state's decidedAt).
  const feed = async (records: Array<{ resource: KomboResource; record: { id: string; changed_at?: unknown } }>) => {
    for (const { resource, record } of records) {
      const value = { tenant: TENANT, integrationId: 'test', resource, fetchedAt: now.toISOString(), pollId: 'test', record }
      const change = { resource, key: changeKey(TENANT, record.id), partition: 0, offset: String(offset++), value, raw: Buffer.from(JSON.stringify(value)) } as ConsumedChange
      await processChanges([change], { store, deadLetters, tenantSettingsOf: () => settingsWith({ mode: 'on_start_date', daysBefore: 7 }), now: () => now })
    }
  }
  const employeesLast = [...komboResources].sort((a) => (a === 'employees' ? 1 : -1))
  await feed(employeesLast.flatMap((resource) => company.list(resource, { includeDeleted: true }).map((record) => ({ resource, record }))))
  const changed = (resource: KomboResource, id: string) => ({ resource, record: company.get(resource, id)! })
  for (let i = 0; i < 150; i++) {
    const change = company.randomChange()
    await feed([changed(change.resource, change.id)])
  }
  // A manager renamed; then shared addresses (flagged on both), one of them fixed again (cleared).
  const employees = company.list('employees').filter((e) => e.employment_status === 'ACTIVE')
  const manager = employees.find((e) => employees.some((r) => r.manager_id === e.id))!
  const [a, b, c] = employees.filter((e) => e.id !== manager.id && e.manager_id !== manager.id)
  await feed([changed('employees', company.update('employees', manager.id, { first_name: 'Renamed', display_full_name: 'Renamed Manager' }).id)])
  await feed([changed('employees', company.update('employees', a.id, { work_email: String(b.work_email).toUpperCase() }).id)])
  await feed([changed('employees', company.update('employees', c.id, { work_email: b.work_email }).id)])
  await feed([changed('employees', company.update('employees', c.id, { work_email: 'c.own@example.test' }).id)])
  return { store, shared: [a.id, b.id], fixed: c.id, manager: manager.id }
}

/** Every row of every view table, its digest and the views' checkpoint. */
async function dump(db: SqlDatabase): Promise<Record<string, unknown>> {
  const checkpoints = (await db.query('SELECT name, position FROM projection_checkpoints ORDER BY name')).rows
  return { ...(await dumpViews(db)), checkpoints, digest: await viewsDigest(db) }
}

/** Applies the store's events `size` at a time, each batch with its checkpoint, as the projector does. */
async function applyInBatches(store: EventStore, views: SqlViewStore, size: number): Promise<number> {
  const events = await store.readAll({ streamPrefixes: projectedStreamPrefixes })
  let batches = 0
  let previous: bigint | null = null
  for (let i = 0; i < events.length; i += size) {
    const batch = events.slice(i, i + size)
    const position = batch[batch.length - 1].position
    await views.transaction(async (tx) => {
      await learnAmpViews(utcEverywhere).apply(tx, batch)
      await tx.setCheckpoint(VIEWS_CHECKPOINT, position, previous)
    })
    previous = position
    batches++
  }
  return batches
}

t.test('a rebuild in large batches gives exactly the views of one event at a time', async (t) => {
  const db = await openPgliteDatabase()
  const [smallDb, largeDb] = [await openPgliteDatabase(), await openPgliteDatabase()]
  t.teardown(() => Promise.all([db, smallDb, largeDb].map((d) => d.close())))
  const { store, shared, fixed, manager } = await seededStore(db)
  const events = (await store.readAll({ streamPrefixes: projectedStreamPrefixes })).length

  const small = await openSqlViewStore(smallDb)
  t.equal(await applyInBatches(store, small, 1), events, 'one transaction per event')
  const expected = await dump(smallDb)
  const users = expected.view_users as Array<{ external_id: string; doc: { issues: string[]; manager: { externalId: string; displayName: string } | null } }>
  const flagged = (id: string) => users.find((u) => u.external_id === id)!.doc.issues.includes('duplicate_work_email')
  t.ok(users.length >= 80, `${users.length} users`)
  t.same(shared.map(flagged), [true, true], 'both users sharing an address are flagged')
  t.equal(flagged(fixed), false, 'the flag is cleared once the address is no longer shared')
  const reports = users.filter((u) => u.doc.manager?.externalId === manager)
  t.ok(reports.length > 0 && reports.every((u) => u.doc.manager!.displayName.startsWith('Renamed')), "a renamed manager's reports show the new name")

  const large = await openSqlViewStore(largeDb)
  const rebuilt = await rebuildViews({ eventStore: store, views: large } as unknown as Stores, createLogger('silent'))
  t.equal(rebuilt.events, events, 'the rebuild applied every event')
  t.ok(events < REBUILD_BATCH_SIZE, 'in one batch')
  const changes = expected.audit_changes as unknown[]
  t.ok(changes.length > 0, `${changes.length} change log entries`)
  t.same(await dump(largeDb), expected, 'one rebuild batch: the same views (and digest)')

  const inSeven = await rebuildViews({ eventStore: store, views: large } as unknown as Stores, createLogger('silent'), { batchSize: Math.ceil(events / 7) })
  t.equal(inSeven.events, events)
  t.same(await dump(largeDb), expected, 'seven rebuild batches: the same views (and digest)')

  // States carried between batches are written when 40 are waiting: several times in this rebuild.
  const writtenEvery40 = await rebuildViews({ eventStore: store, views: large } as unknown as Stores, createLogger('silent'), { batchSize: Math.ceil(events / 7), carryStates: 40 })
  t.equal(writtenEvery40.events, events)
  t.same(await dump(largeDb), expected, 'seven batches, carried states written every 40: the same views (and digest)')

  const uncarried = await rebuildViews({ eventStore: store, views: large } as unknown as Stores, createLogger('silent'), { batchSize: Math.ceil(events / 7), carryStates: 0 })
  t.equal(uncarried.events, events)
  t.same(await dump(largeDb), expected, 'seven batches, every batch writing its states: the same views (and digest)')
})

t.test('a rebuild interrupted with states carried resumes from its checkpoint to the same views', async (t) => {
  const db = await openPgliteDatabase()
  const [smallDb, crashedDb] = [await openPgliteDatabase(), await openPgliteDatabase()]
  t.teardown(() => Promise.all([db, smallDb, crashedDb].map((d) => d.close())))
  const { store } = await seededStore(db)
  const all = await store.readAll({ streamPrefixes: projectedStreamPrefixes })
  const small = await openSqlViewStore(smallDb)
  await applyInBatches(store, small, 1)
  const expected = await dump(smallDb)

  const views = await openSqlViewStore(crashedDb)
  for (const carryStates of [1_000_000, 40]) {
    // Every batch commits its change-log rows; the states, the users (deferred: recomputed once
    // from the states) and the checkpoint only when 40 states are waiting, or never: the process
    // "dies" before the end of the rebuild writes them.
    const rebuilding = new Projector({ store, views, batchSize: Math.ceil(all.length / 7), flushAfterMs: 60_000, carryStates })
    await rebuilding.rebuild()
    await rebuilding.caughtUp(all[Math.floor(all.length * 0.8)].position)
    await rebuilding.stop()
    const checkpoint = await views.checkpoint(VIEWS_CHECKPOINT)
    t.ok(checkpoint === null || checkpoint < all[all.length - 1].position, `carrying ${carryStates}: the checkpoint stayed behind (${checkpoint})`)
    const written = (await crashedDb.query<{ n: number }>('SELECT count(*)::int AS n FROM view_users')).rows[0].n
    if (checkpoint === null) t.equal(written, 0, `carrying ${carryStates}: never settled, no user written (users wait for the settle)`)
    else t.ok(written > 0, `carrying ${carryStates}: the settles wrote ${written} users`)

    // The service's projector (no carrying) resumes from the checkpoint, over views written ahead of it.
    const resumed = new Projector({ store, views, batchSize: 25, flushAfterMs: 1 })
    await resumed.start()
    await resumed.caughtUp(all[all.length - 1].position)
    await resumed.stop()
    t.same(await dump(crashedDb), expected, `carrying ${carryStates}: resumed after the interruption, the same views (and digest)`)
  }
})
