// The erasure/user-feed race: the feed publisher reads (and decrypts) a batch of employee events
// before it publishes the batch, so an erasure could commit in between — or while the publish is
// in flight — and the feed then carried the erased person's name and email after her erasure.
// Both interleavings are forced with hooks, not sleeps: (a) the erasure commits after her events
// were read, before the batch is published (both SQL drivers); (b) the erasure starts while the
// sink is publishing, and must wait until the sink acknowledged (PostgreSQL: two connections).
// On the code before the fix (a) published her data, (b) let the erasure finish mid-publish.
import t from 'tap'
import type { Test } from 'tap'
import type { SqlDatabase } from '../../sql/database.ts'
import { openSqlEventStore } from '../../processors/eventstore/sql.ts'
import { withPersonalDataEncryption } from '../../processors/eventstore/encrypting.ts'
import { openSqlPersonalDataKeys } from '../../processors/eventstore/personal-data-keys.ts'
import { eraseEmployee } from '../../processors/commands/erase-employee.ts'
import type { EventStore } from '../../processors/eventstore/port.ts'
import { openSqlViewStore } from '../../projections/viewstore/sql.ts'
import { purgeUserFromViewsIn } from '../../projections/viewstore/erase-user.ts'
import { sqlFeedCheckpoints } from '../../projections/user-feed/checkpoints.ts'
import { UserFeedPublisher } from '../../projections/user-feed/publisher.ts'
import type { UserFeedSink } from '../../projections/user-feed/port.ts'
import type { UserFeedEvent } from '../../schemas/user-feed.ts'
import { recordEmployee } from '../support/employee-history.ts'
import { anEmployee } from '../support/kombo-fixtures.ts'
import { forEachSqlDriver } from '../support/sql-drivers.ts'
import { waitFor } from '../support/wait-for.ts'
import { recordTrial } from '../support/reliability-log.ts'

const test = 'test/reliability/feed-erasure-race.test.ts'
const tenant = 'acme'
const now = new Date('2026-02-01T00:00:00Z')
const command = { tenant, employeeId: 'ada', reason: 'GDPR request #7', actor: 'dpo@acme.test' }

/** The store, calling `beforeLast` once before it delivers the subscription's last event (Bob's). */
function hookedStore(store: EventStore, last: bigint, hooks: { beforeLast?: () => Promise<void> }): EventStore {
  return {
    ...store,
    subscribeToAll(options, handler) {
      return store.subscribeToAll(options, async (event) => {
        if (event.position === last) {
          const hook = hooks.beforeLast
          hooks.beforeLast = undefined
          await hook?.()
        }
        return handler(event)
      })
    },
  }
}

/** Ada, then Bob (her report), recorded encrypted; the publisher wired as runtime/user-feed.ts wires it. */
async function setUp(t: Test, db: SqlDatabase, hooks: { beforeLast?: () => Promise<void>; onPublish?: () => Promise<void> }) {
  const raw = await openSqlEventStore(db, { pollIntervalMs: 10 })
  t.teardown(() => raw.close())
  const keys = await openSqlPersonalDataKeys(db)
  const store = withPersonalDataEncryption(raw, keys)
  await openSqlViewStore(db) // the checkpoint table, and the views the erasure purges
  const before = (await raw.readAll()).length
  await recordEmployee(store, tenant, anEmployee({ id: 'ada', work_email: 'ada@acme.test' }), now)
  await recordEmployee(store, tenant, anEmployee({ id: 'bob', first_name: 'Bob', display_full_name: 'Bob Byte', work_email: 'bob@acme.test', manager_id: 'ada' }), now)
  const all = await raw.readAll()
  const last = all.at(-1)!.position
  const received: UserFeedEvent[] = []
  const sink: UserFeedSink = {
    async publish(events) {
      await hooks.onPublish?.()
      hooks.onPublish = undefined
      received.push(...structuredClone(events))
    },
    async close() {},
  }
  const erase = () => eraseEmployee({ store, keys, purgeViews: purgeUserFromViewsIn }, command)
  // One batch of every event (flushed by the last one, never by the timer), so Ada's events are read before the hook erases her.
  const publisher = new UserFeedPublisher({
    store: hookedStore(store, last, hooks),
    sink,
    checkpoints: sqlFeedCheckpoints(db),
    erasures: { keys, db },
    batchSize: all.length - before,
    flushAfterMs: 600_000,
  })
  t.teardown(() => publisher.stop())
  return { publisher, erase, received, last }
}

function adaNotInFeed(t: Test, received: UserFeedEvent[]) {
  const text = JSON.stringify(received)
  t.notOk(text.includes('ada@acme.test'), 'no feed event carries her email')
  t.notOk(received.some((e) => JSON.stringify(e).includes('"externalId":"ada"')), 'no feed event of her')
  t.ok(received.some((e) => e.type === 'UserCreated' && JSON.stringify(e).includes('bob@acme.test')), 'Bob, in the same batch, is published')
}

t.test('an erasure that commits after the feed publisher read the batch and before it published it', async (t) => {
  forEachSqlDriver(t, async (t, db, driver) => {
    const hooks: { beforeLast?: () => Promise<void> } = {}
    const { publisher, erase, received, last } = await setUp(t, db, hooks)
    let erased = false
    hooks.beforeLast = async () => {
      await erase()
      erased = true
    }
    await publisher.start()
    await waitFor('the batch published', () => publisher.position === last)
    t.ok(erased, 'the erasure ran after her events were read, before the publish')
    adaNotInFeed(t, received)
    recordTrial({ area: 'erasure', fault: "user feed: an erasure committing after the feed publisher read (decrypted) the employee's events, before the batch was published", mode: 'embedded', times: 1, outcome: `${driver}: the batch left her events out (erased streams re-read under the erasure lock while publishing); the colleague in the same batch published`, lost: 'nothing; no erased data in the feed', test, passed: t.passing() })
  })
})

t.test('an erasure that starts while the feed batch is being published waits for the acknowledgement (PostgreSQL)', async (t) => {
  const { openPostgresDatabase } = await import('../../sql/postgres.ts')
  const { testPostgresUrl } = await import('../support/postgres.ts')
  const db = await openPostgresDatabase(await testPostgresUrl(t))
  t.teardown(() => db.close())
  const hooks: { onPublish?: () => Promise<void> } = {}
  const { publisher, erase, received, last } = await setUp(t, db, hooks)
  let erasure: Promise<unknown> | null = null
  let finishedWhilePublishing = false
  hooks.onPublish = async () => {
    let finished = false
    erasure = erase().then(() => (finished = true))
    // The erasure either blocks on the lock (seen in pg_locks) or — the bug — finishes at once.
    await waitFor('the erasure to wait for the publish, or to finish', async () => {
      if (finished) return true
      const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
      return rows[0].n > 0
    })
    finishedWhilePublishing = finished
  }
  await publisher.start()
  await waitFor('the batch published', () => publisher.position === last)
  t.ok(erasure, 'the erasure started while the sink was publishing')
  t.notOk(finishedWhilePublishing, 'the erasure did not finish before the sink acknowledged')
  await erasure
  recordTrial({ area: 'erasure', fault: 'user feed: an erasure started while the feed publisher was publishing a batch holding her events', mode: 'production', times: 1, outcome: 'postgres: the erasure waited on the erasure lock until the sink acknowledged the batch (published before the erasure, in order)', lost: 'nothing; no feed event after the erasure carries her data', test, passed: t.passing() })
  t.ok(received.length > 0)
})
