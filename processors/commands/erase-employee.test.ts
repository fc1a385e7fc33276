// Erasure is atomic where it must be and resumable elsewhere: a failure injected between its steps
// never leaves the views serving an employee whose key is gone, and running the command again
// completes it with exactly one audit record.
import t from 'tap'
import type { Test } from 'tap'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import type { SqlQueryable } from '../../sql/database.ts'
import { openSqlEventStore } from '../eventstore/sql.ts'
import { withPersonalDataEncryption } from '../eventstore/encrypting.ts'
import { openSqlPersonalDataKeys } from '../eventstore/personal-data-keys.ts'
import type { EventStore } from '../eventstore/port.ts'
import { openSqlViewStore } from '../../projections/viewstore/sql.ts'
import { purgeUserFromViewsIn } from '../../projections/viewstore/erase-user.ts'
import { applyEvents } from '../../projections/apply-events.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import { erasureStreamName } from '../../schemas/erasure.ts'
import { recordEmployee } from '../../test/support/employee-history.ts'
import { anEmployee } from '../../test/support/kombo-fixtures.ts'
import { eraseEmployee, listErasures, type EraseEmployeeDeps } from './erase-employee.ts'

const tenant = 'acme'
const command = { tenant, employeeId: 'ada', reason: 'GDPR request #1', actor: 'dpo@acme.test' }

/** One embedded database holding the event store, the keys and the views, with Ada and her report Bob projected. */
async function setUp(t: Test) {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const raw = await openSqlEventStore(db, { pollIntervalMs: 20 })
  t.teardown(() => raw.close())
  const keys = await openSqlPersonalDataKeys(db)
  const store = withPersonalDataEncryption(raw, keys)
  const views = await openSqlViewStore(db)
  const now = new Date('2026-02-01T00:00:00Z')
  await recordEmployee(store, tenant, anEmployee({ id: 'ada', work_email: 'ada@acme.test' }), now)
  await recordEmployee(store, tenant, anEmployee({ id: 'bob', first_name: 'Bob', display_full_name: 'Bob Byte', work_email: 'bob@acme.test', manager_id: 'ada' }), now)
  const events = await store.readAll()
  await views.transaction((tx) => applyEvents(tx, events))
  const deps: EraseEmployeeDeps = { store, keys, purgeViews: purgeUserFromViewsIn }
  const keyKind = async () => (await keys.statesOf([employeeStreamName(tenant, 'ada')])).get(employeeStreamName(tenant, 'ada'))?.kind
  return { store, keys, views, deps, keyKind }
}

/** The store, with the first append to the erasure audit stream failing (a crash between the steps). */
function failingFirstAuditAppend(store: EventStore): EventStore {
  let failed = false
  return {
    ...store,
    async appendToStream(stream, events, options) {
      if (stream === erasureStreamName(tenant) && !failed) {
        failed = true
        throw new Error('injected: connection lost before the audit was written')
      }
      return store.appendToStream(stream, events, options)
    },
  }
}

t.test('before erasing, the views serve Ada and her name on her report', async (t) => {
  const { views, keyKind } = await setUp(t)
  t.equal((await views.getUser(tenant, 'ada'))?.email, 'ada@acme.test')
  t.equal((await views.getUser(tenant, 'bob'))?.manager?.displayName, 'Ada Lovelace')
  t.equal(await keyKind(), 'key')
})

t.test('a failure after the key is erased (the audit append): the views already serve nothing of her; a retry completes with one audit record', async (t) => {
  const { store, views, deps, keyKind } = await setUp(t)
  await t.rejects(eraseEmployee({ ...deps, store: failingFirstAuditAppend(store) }, command), /injected/)
  t.equal(await keyKind(), 'erased', 'the key is gone')
  t.equal(await views.getUser(tenant, 'ada'), null, 'so is her user in the views')
  t.equal((await views.getUser(tenant, 'bob'))?.manager?.displayName ?? null, null, "and her name on her report's user")
  t.same(await listErasures(store, tenant), [], 'the audit is still missing')

  const receipt = await eraseEmployee(deps, command)
  t.equal(receipt.alreadyErased, true, 'the retry finds the key erased')
  const audits = await listErasures(store, tenant)
  t.equal(audits.length, 1, 'and records the one audit of that erasure')
  t.equal(audits[0].erasedAt, receipt.erasedAt)
  await eraseEmployee(deps, command)
  t.equal((await listErasures(store, tenant)).length, 1, 'a third run adds no second audit record')
})

t.test('a failure while purging the views: the key is kept as well (one transaction), and a retry erases both', async (t) => {
  const { views, deps, keyKind } = await setUp(t)
  let purges = 0
  const failingPurge = async (tx: SqlQueryable, tenant: string, employeeId: string) => {
    await purgeUserFromViewsIn(tx, tenant, employeeId)
    if (++purges === 1) throw new Error('injected: the view purge failed half way')
  }
  await t.rejects(eraseEmployee({ ...deps, purgeViews: failingPurge }, command), /injected/)
  t.equal(await keyKind(), 'key', 'the key is still there: nothing was erased')
  t.equal((await views.getUser(tenant, 'ada'))?.email, 'ada@acme.test', 'and the views still hold what the key can still decrypt')

  await eraseEmployee({ ...deps, purgeViews: failingPurge }, command)
  t.equal(await keyKind(), 'erased')
  t.equal(await views.getUser(tenant, 'ada'), null)
})
