// The budget's shared tail count gives the same answers as a count per tenant (tenant-progress.ts),
// reads each event of the log once however many tenants ask, and falls back to the per-tenant
// count when more is behind the projector than it keeps. On the SQL store and the EventStoreDB
// adapter over its gRPC double.
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import { openEsdbEventStore } from '../processors/eventstore/esdb.ts'
import { startEsdbDouble } from '../test/support/esdb-double/index.ts'
import { openSqlViewStore } from './viewstore/sql.ts'
import { VIEWS_CHECKPOINT } from './projection.ts'
import { unprojectedEvents } from './tenant-progress.ts'
import { unprojectedEventsFromTail } from './unprojected-tail.ts'
import type { EventStore } from '../processors/eventstore/port.ts'

const db = await openPgliteDatabase()
t.teardown(() => db.close())
const views = await openSqlViewStore(db)
// The one views checkpoint the tests move (every test shares the view store): setCheckpoint checks where it was.
let checkpointAt: bigint | null = null
async function moveCheckpoint(to: bigint): Promise<void> {
  await views.transaction((tx) => tx.setCheckpoint(VIEWS_CHECKPOINT, to, checkpointAt))
  checkpointAt = to
}

const stores: Array<[string, (t: Test) => Promise<EventStore>]> = [
  ['sql', async (t) => {
    const store = await openSqlEventStore(db)
    t.teardown(() => store.close())
    return store
  }],
  ['eventstoredb (test double)', async (t) => {
    const double = await startEsdbDouble()
    const store = openEsdbEventStore(double.connectionString)
    t.teardown(async () => {
      await store.close()
      await double.close()
    })
    return store
  }],
]

/** The position of an event appended now to a stream no projection reads: the projector "has passed" everything so far. */
async function endOfLog(store: EventStore): Promise<bigint> {
  return (await store.appendToStream(`unprojected-${randomUUID()}`, happened(1))).position
}

const happened = (n: number) => Array.from({ length: n }, () => ({ id: randomUUID(), type: 'EmployeeHired', data: {} }))

/** `readAll` and `countAll` calls and the events they returned or counted. */
function counting(store: EventStore) {
  const seen = { readEvents: 0, counts: 0 }
  const wrapped: Pick<EventStore, 'readAll' | 'countAll'> = {
    readAll: async (o) => {
      const page = await store.readAll(o)
      seen.readEvents += page.length
      return page
    },
    countAll: async (o) => {
      seen.counts++
      return store.countAll(o)
    },
  }
  return { store: wrapped, seen }
}

for (const [name, open] of stores) {
  t.test(`${name}: the same counts as one count per tenant; each event read once`, async (t) => {
    const store = await open(t)
    const tenants = Array.from({ length: 6 }, (_, i) => `tail${i}${randomUUID().slice(0, 6)}`)
    await moveCheckpoint(await endOfLog(store))
    const per = unprojectedEvents({ store, views })
    const { store: watched, seen } = counting(store)
    const tail = unprojectedEventsFromTail({ store: watched, views }, { pageSize: 7 })
    const ask = async (label: string, upTo: number) => {
      const [expected, got] = [await Promise.all(tenants.map((x) => per(x, upTo))), await Promise.all(tenants.map((x) => tail(x, upTo)))]
      t.same(got, expected, `${label}: ${got.join(', ')}`)
    }
    await ask('nothing appended', 100)
    for (const [i, tenant] of tenants.entries()) await store.appendToStream(`employee-${tenant}_a`, happened(i + 1))
    await store.appendToStream(`team-${tenants[0]}_t`, happened(2))
    await ask('after appends', 100)
    await ask('capped at upTo', 3)
    const read = seen.readEvents
    await ask('asked again, nothing new', 100)
    t.equal(seen.readEvents, read, 'nothing appended since: no event read again')
    t.equal(seen.readEvents, 6 * 7 / 2 + 2, 'every appended event read once, for all six tenants together')
    // The projector passes the first half of the log.
    const all = await store.readAll({ streamPrefixes: tenants.map((x) => `employee-${x}_`) })
    await moveCheckpoint(all[Math.floor(all.length / 2)].position)
    await ask('after the projector moved', 100)
    await store.appendToStream(`employee-${tenants[5]}_b`, happened(4))
    await ask('appended after it moved', 100)
    t.equal(seen.counts, 0, 'never fell back to a count per tenant')
  })

  t.test(`${name}: more behind the projector than it keeps: a count per tenant, until the projector passes it`, async (t) => {
    const store = await open(t)
    const tenant = `far${randomUUID().slice(0, 6)}`
    await moveCheckpoint(await endOfLog(store))
    const { store: watched, seen } = counting(store)
    const tail = unprojectedEventsFromTail({ store: watched, views }, { maxTracked: 10, pageSize: 4 })
    await store.appendToStream(`employee-${tenant}_a`, happened(15))
    t.equal(await tail(tenant, 100), 15, 'the count, from countAll')
    t.equal(seen.counts, 1, 'fell back to countAll')
    const read = seen.readEvents
    t.equal(await tail(tenant, 100), 15)
    t.equal(seen.readEvents, read, 'the tail is not read again while the projector is that far behind')
    const [last] = await store.readAllBackwards({ maxCount: 1 })
    await moveCheckpoint(last.position)
    await store.appendToStream(`employee-${tenant}_a`, happened(2))
    const counts = seen.counts
    t.equal(await tail(tenant, 100), 2, 'the projector passed it: the tail again')
    t.equal(seen.counts, counts, 'no countAll')
  })
}
