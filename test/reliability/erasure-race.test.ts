// The erasure/projector race: the projector reads (and decrypts) a batch of events before it opens
// the batch's view transaction, so an erasure could commit in between — or while that transaction
// is open — and the projector's commit then filled the views again with the erased person's data
// (the key gone, the name and email served). Both interleavings are forced here with hooks in the
// view store, not with sleeps: (a) the erasure commits after the read, before the view transaction
// (both SQL drivers); (b) the erasure starts while the view transaction is open, and must wait for
// it (PostgreSQL: two connections). On the code before the fix both ended with Ada in the views.
import t from 'tap'
import type { Test } from 'tap'
import type { SqlDatabase } from '../../sql/database.ts'
import { openSqlEventStore } from '../../processors/eventstore/sql.ts'
import { withPersonalDataEncryption } from '../../processors/eventstore/encrypting.ts'
import { openSqlPersonalDataKeys } from '../../processors/eventstore/personal-data-keys.ts'
import { eraseEmployee } from '../../processors/commands/erase-employee.ts'
import { openSqlViewStore, type SqlViewStore } from '../../projections/viewstore/sql.ts'
import type { ViewTransaction } from '../../projections/viewstore/port.ts'
import { purgeUserFromViewsIn } from '../../projections/viewstore/erase-user.ts'
import { Projector } from '../../projections/projector.ts'
import { recordEmployee } from '../support/employee-history.ts'
import { anEmployee } from '../support/kombo-fixtures.ts'
import { forEachSqlDriver } from '../support/sql-drivers.ts'
import { waitFor } from '../support/wait-for.ts'
import { recordTrial } from '../support/reliability-log.ts'

const test = 'test/reliability/erasure-race.test.ts'
const tenant = 'acme'
const now = new Date('2026-02-01T00:00:00Z')
const command = { tenant, employeeId: 'ada', reason: 'GDPR request #7', actor: 'dpo@acme.test' }

type Hooks = {
  /** Runs once, after the batch was read and before its view transaction begins. */
  beforeTransaction?: () => Promise<void>
  /** Runs once, inside the batch's view transaction after the projection wrote, before the commit. */
  beforeCommit?: () => Promise<void>
}

/** The views, with a hook at each point of the first batch's transaction. */
function hookedViews(views: SqlViewStore, hooks: Hooks): SqlViewStore {
  const once = (name: keyof Hooks) => {
    const hook = hooks[name]
    hooks[name] = undefined
    return hook ?? (async () => {})
  }
  return {
    ...views,
    async transaction<T>(fn: (tx: ViewTransaction) => Promise<T>): Promise<T> {
      await once('beforeTransaction')()
      return views.transaction(async (tx) => {
        const result = await fn(tx)
        await once('beforeCommit')()
        return result
      })
    },
  }
}

/** Ada and Bob (her report) recorded encrypted; the projector not yet started. */
async function setUp(t: Test, db: SqlDatabase, hooks: Hooks) {
  const raw = await openSqlEventStore(db, { pollIntervalMs: 10 })
  t.teardown(() => raw.close())
  const keys = await openSqlPersonalDataKeys(db)
  const store = withPersonalDataEncryption(raw, keys)
  const views = await openSqlViewStore(db)
  await recordEmployee(store, tenant, anEmployee({ id: 'ada', work_email: 'ada@acme.test' }), now)
  await recordEmployee(store, tenant, anEmployee({ id: 'bob', first_name: 'Bob', display_full_name: 'Bob Byte', work_email: 'bob@acme.test', manager_id: 'ada' }), now)
  const last = (await raw.readAll()).at(-1)!.position
  const erase = () => eraseEmployee({ store, keys, purgeViews: purgeUserFromViewsIn }, command)
  // Wired as the projector role and the rebuild wire it (runtime/roles/projector.ts, runtime/admin.ts).
  const projector = new Projector({ store, views: hookedViews(views, hooks), erasures: keys, flushAfterMs: 5 })
  return { views, erase, projector, last, db }
}

async function adaLeftNothing(t: Test, db: SqlDatabase, views: SqlViewStore) {
  t.equal(await views.getUser(tenant, 'ada'), null, 'the views serve no user Ada')
  const { rows } = await db.query<{ n: number }>(
    "SELECT (SELECT count(*) FROM view_entity_states WHERE tenant = $1 AND id = 'ada')::int + (SELECT count(*) FROM audit_changes WHERE tenant = $1 AND user_id = 'ada')::int AS n",
    [tenant],
  )
  t.equal(rows[0].n, 0, 'no folded state or change-log entry of hers either')
  t.equal((await views.getUser(tenant, 'bob'))?.email, 'bob@acme.test', 'Bob, read in the same batch, is projected')
  t.equal((await views.getUser(tenant, 'bob'))?.manager?.displayName ?? null, null, "and carries no name of hers as his manager's")
}

t.test('an erasure that commits after the projector read the batch and before its view transaction', async (t) => {
  forEachSqlDriver(t, async (t, db, driver) => {
    const hooks: Hooks = {}
    const { views, erase, projector, last } = await setUp(t, db, hooks)
    let erased = false
    hooks.beforeTransaction = async () => {
      await erase()
      erased = true
    }
    await projector.start()
    t.teardown(() => projector.stop())
    await projector.caughtUp(last)
    t.ok(erased, 'the erasure ran between the read and the view write')
    await adaLeftNothing(t, db, views)
    recordTrial({ area: 'erasure', fault: 'an erasure committing after the projector read (decrypted) the employee\'s events, before the batch\'s view transaction', mode: 'embedded', times: 1, outcome: `${driver}: the batch left her events out (erased keys re-read inside the view transaction, under the erasure lock); the colleague in the same batch projected`, lost: 'nothing; no erased data served', test, passed: t.passing() })
  })
})

t.test('an erasure that starts while the projector\'s view transaction is open waits for its commit (PostgreSQL)', async (t) => {
  const { openPostgresDatabase } = await import('../../sql/postgres.ts')
  const { testPostgresUrl } = await import('../support/postgres.ts')
  const db = await openPostgresDatabase(await testPostgresUrl(t))
  t.teardown(() => db.close())
  const hooks: Hooks = {}
  const { views, erase, projector, last } = await setUp(t, db, hooks)
  let erasure: Promise<unknown> | null = null
  let finishedWhileOpen = false
  hooks.beforeCommit = async () => {
    let finished = false
    erasure = erase().then(() => (finished = true))
    // The erasure either blocks on the lock (seen in pg_locks) or — the bug — finishes at once.
    await waitFor('the erasure to wait for the open view transaction, or to finish', async () => {
      if (finished) return true
      const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
      return rows[0].n > 0
    })
    finishedWhileOpen = finished
  }
  await projector.start()
  t.teardown(() => projector.stop())
  await projector.caughtUp(last)
  t.ok(erasure, 'the erasure started inside the view transaction')
  t.notOk(finishedWhileOpen, 'the erasure did not finish while the view transaction was open')
  await erasure
  await adaLeftNothing(t, db, views)
  recordTrial({ area: 'erasure', fault: 'an erasure started while the projector\'s view transaction (holding her events) was open', mode: 'production', times: 1, outcome: 'postgres: the erasure waited on the erasure lock until the batch committed, then purged what it wrote', lost: 'nothing; no erased data served', test, passed: t.passing() })
})

t.test('an erasure between the batches of a rebuild carrying states and deferring users', async (t) => {
  forEachSqlDriver(t, async (t, db) => {
    const { views, erase, last } = await setUp(t, db, {})
    const raw = await openSqlEventStore(db, { pollIntervalMs: 10 })
    t.teardown(() => raw.close())
    const keys = await openSqlPersonalDataKeys(db)
    const store = withPersonalDataEncryption(raw, keys)
    // Wired as the rebuild wires it (runtime/admin.ts): states carried, users deferred to the settle.
    const rebuilding = new Projector({ store, views, erasures: keys, flushAfterMs: 5, carryStates: 1_000 })
    await rebuilding.start()
    t.teardown(() => rebuilding.stop())
    await rebuilding.caughtUp(last)
    t.equal(await views.getUser(tenant, 'ada'), null, 'before the settle, her user is only deferred')
    t.equal(await views.checkpoint(rebuilding.checkpointName), null, 'and the checkpoint has not moved')
    await erase()
    // A batch after the erasure, then the end of the rebuild writes what was carried and deferred.
    await recordEmployee(store, tenant, anEmployee({ id: 'bob', first_name: 'Bob', display_full_name: 'Bob Byte', work_email: 'bob@acme.test', manager_id: 'ada', job_title: 'Engineer II' }), now)
    await rebuilding.caughtUp((await raw.readAll()).at(-1)!.position)
    await rebuilding.settleStates()
    await adaLeftNothing(t, db, views)
  })
})
