// Crypto-shredding: the decorator passes the event-store contract over the SQL adapter (with every
// stream treated as personal), stores only ciphertext, and once a key is erased makes that stream's
// events unreadable everywhere while other streams are untouched.
import t from 'tap'
import { randomBytes, randomUUID } from 'node:crypto'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openSqlEventStore } from './sql.ts'
import { PersonalDataDecryptionError, PersonalDataErasedError, withPersonalDataEncryption } from './encrypting.ts'
import { openSqlPersonalDataKeys } from './personal-data-keys.ts'
import { runEventStoreContract } from '../../test/contracts/event-store.contract.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import { waitFor } from '../../test/support/wait-for.ts'
import type { EventStore, RecordedEvent } from './port.ts'
import type { Test } from 'tap'
import { openEsdbEventStore } from './esdb.ts'
import { startEsdbDouble } from '../../test/support/esdb-double/index.ts'

/** What a backup or a look into the database would show: data and metadata as stored. */
const dump = (events: RecordedEvent[]) => JSON.stringify(events.map((e) => [e.streamName, e.type, e.data, e.metadata]))

const db = await openPgliteDatabase()
t.teardown(() => db.close())
const keys = await openSqlPersonalDataKeys(db)

t.test('the event-store contract holds through the decorator', async (t) => {
  runEventStoreContract(t, async () => {
    const raw = await openSqlEventStore(db, { pollIntervalMs: 20 })
    return { store: withPersonalDataEncryption(raw, keys, { isPersonal: () => true }), cleanup: () => raw.close() }
  })
})

// The same scenario on both adapters: crypto-shredding needs nothing from the store itself.
const adapters: Array<[string, (t: Test) => Promise<EventStore>]> = [
  ['sql', async (t) => {
    const raw = await openSqlEventStore(db, { pollIntervalMs: 20 })
    t.teardown(() => raw.close())
    return raw
  }],
  ['eventstoredb (test double)', async (t) => {
    const double = await startEsdbDouble()
    const raw = openEsdbEventStore(double.connectionString)
    t.teardown(async () => {
      await raw.close()
      await double.close()
    })
    return raw
  }],
]

for (const [adapter, openRaw] of adapters) t.test(`${adapter}: employee data is stored encrypted and erased for good`, async (t) => {
  const raw = await openRaw(t)
  const store = withPersonalDataEncryption(raw, keys)
  const tenant = `t${randomBytes(4).toString('hex')}`
  const ada = employeeStreamName(tenant, 'ada')
  const bob = employeeStreamName(tenant, 'bob')
  const team = `team-${tenant}_eng`
  const imported = (first: string) => ({ id: randomUUID(), type: 'EmployeeImported', data: { record: { first_name: first, work_email: `${first}@acme.test` } }, metadata: { pollId: 'p1' } })
  await store.appendToStream(ada, [imported('Adalind'), { id: randomUUID(), type: 'EmployeeNameChanged', data: { first_name: 'Adalinde' } }])
  await store.appendToStream(bob, [imported('Bobbington')])
  await store.appendToStream(team, [{ id: randomUUID(), type: 'TeamImported', data: { name: 'Engineering' } }])

  const stored = dump(await raw.readAll())
  t.notMatch(stored, 'Adalind', 'the raw store holds no name')
  t.notMatch(stored, 'acme.test', 'nor an email')
  t.match(stored, 'Engineering', 'non-personal streams stay in the clear')
  t.match(stored, '"pollId":"p1"', 'metadata stays in the clear')
  t.same((await store.readStream(ada)).map((e) => e.data), [{ record: { first_name: 'Adalind', work_email: 'Adalind@acme.test' } }, { first_name: 'Adalinde' }], 'reads decrypt')
  t.same((await store.readStreams([ada]))[0], await store.readStream(ada), 'readStreams decrypts as readStream does')

  const live: string[] = []
  const sub = store.subscribeToAll({ streamPrefixes: [`employee-${tenant}_`] }, async (e) => void live.push(`${e.streamName}:${JSON.stringify(e.data)}`))
  t.teardown(() => sub.close())
  await waitFor('subscription to catch up', async () => live.length === 3)
  t.match(live[0], 'Adalind', 'subscriptions decrypt')

  const first = await keys.erase(ada, { tenant, employeeId: 'ada' })
  t.equal(first.alreadyErased, false)
  t.equal((await keys.erase(ada, { tenant, employeeId: 'ada' })).alreadyErased, true, 'erasing twice is harmless')
  t.same(await store.readStream(ada), [], 'the erased stream reads as empty')
  const [adaMany, bobMany, teamMany] = await store.readStreams([ada, bob, team])
  t.same(adaMany, [], 'readStreams leaves the erased stream out too')
  t.same(bobMany.map((e) => (e.data as { record: { first_name: string } }).record.first_name), ['Bobbington'], 'and decrypts the others')
  t.equal(teamMany.length, 1, 'non-personal streams come through as stored')
  t.same((await store.readAll()).filter((e) => e.streamName === ada), [], 'and is left out of $all')
  t.equal((await store.readStream(bob)).length, 1, 'another employee is untouched')
  t.same([...(await keys.erasedAmong(tenant, ['ada', 'bob', 'cyd']))], ['ada'])
  await t.rejects(store.appendToStream(ada, [imported('Adalind')]), PersonalDataErasedError, 'nothing more is written to it')
  t.notMatch(dump(await raw.readAll()), 'Adalind', 'still no plaintext anywhere')

  // Paging through $all must not stop at a page whose events were all erased.
  const page = await store.readAll({ maxCount: 1, streamPrefixes: [`employee-${tenant}_`] })
  t.equal(page[0]?.streamName, bob, 'a one-event page skips the erased events and finds the next readable one')

  // The last readable event (a rebuild's end): erased events after it are skipped, page by page.
  const cyd = employeeStreamName(tenant, 'cyd')
  await store.appendToStream(cyd, [imported('Cydney'), imported('Cydney')])
  await keys.erase(cyd, { tenant, employeeId: 'cyd' })
  const [last] = await store.readAllBackwards({ maxCount: 1, streamPrefixes: [`employee-${tenant}_`] })
  t.equal(last?.streamName, bob, 'readAllBackwards skips the erased events at the end and finds the last readable one')
  t.same((last?.data as { record: { first_name: string } }).record.first_name, 'Bobbington', 'decrypted')

  // A subscriber that starts after the erasure never sees the erased events.
  const later: string[] = []
  const sub2 = store.subscribeToAll({ streamPrefixes: [`employee-${tenant}_`] }, async (e) => void later.push(e.streamName))
  t.teardown(() => sub2.close())
  await waitFor('second subscription', async () => later.length === 1)
  t.same(later, [bob])
})

t.test('ciphertext copied into another stream does not open', async (t) => {
  const raw = await openSqlEventStore(db)
  t.teardown(() => raw.close())
  const store = withPersonalDataEncryption(raw, keys)
  const tenant = `t${randomBytes(4).toString('hex')}`
  const a = employeeStreamName(tenant, 'a')
  const b = employeeStreamName(tenant, 'b')
  await store.appendToStream(a, [{ id: randomUUID(), type: 'EmployeeImported', data: { secret: 'x' } }])
  await store.appendToStream(b, [{ id: randomUUID(), type: 'EmployeeImported', data: { secret: 'y' } }])
  const [sealed] = await raw.readStream(a)
  await raw.appendToStream(b, [{ id: randomUUID(), type: 'EmployeeNameChanged', data: sealed.data }])
  await t.rejects(store.readStream(b), PersonalDataDecryptionError)
})

t.test('every sealed event has its own IV, across refills of the IV pool', async (t) => {
  const raw = await openSqlEventStore(db)
  t.teardown(() => raw.close())
  const store = withPersonalDataEncryption(raw, keys)
  const stream = employeeStreamName(`t${randomBytes(4).toString('hex')}`, 'many')
  // 2,500 events: more than two fills of the 1,024-IV pool.
  const events = Array.from({ length: 2500 }, () => ({ id: randomUUID(), type: 'EmployeeNameChanged', data: { first_name: 'Same' } }))
  await store.appendToStream(stream, events)
  const stored = await raw.readStream(stream)
  const ivs = stored.map((e) => (e.data as { $encrypted: { iv: string } }).$encrypted.iv)
  t.equal(ivs.length, 2500)
  t.equal(new Set(ivs).size, 2500, 'no IV repeats')
  t.ok(ivs.every((iv) => Buffer.from(iv, 'base64').length === 12), '96-bit IVs')
  const opened = await store.readStream(stream)
  t.ok(opened.every((e) => (e.data as { first_name: string }).first_name === 'Same'), 'each opens with its own IV')
})

t.test('decodes: streams the reader will not look into pass as stored, without a key lookup; the others open', async (t) => {
  const raw = await openSqlEventStore(db)
  t.teardown(() => raw.close())
  let looked: string[] = []
  const counting = { ...keys, statesOf: (streams: string[]) => ((looked = looked.concat(streams)), keys.statesOf(streams)) }
  const store = withPersonalDataEncryption(raw, counting)
  const tenant = `t${randomBytes(4).toString('hex')}`
  const mine = employeeStreamName(tenant, 'mine')
  const theirs = employeeStreamName(tenant, 'theirs')
  await store.appendToStream(mine, [{ id: randomUUID(), type: 'EmployeeImported', data: { name: 'Ada' } }])
  await store.appendToStream(theirs, [{ id: randomUUID(), type: 'EmployeeImported', data: { name: 'Bob' } }])
  const [first] = await raw.readStream(mine)
  const decodes = (stream: string) => stream === mine

  looked = []
  const page = (await store.readAll({ after: first.position - 1n, decodes })).filter((e) => e.streamName.includes(tenant))
  t.same(page.map((e) => e.streamName), [mine, theirs], 'both events delivered, in order, with their positions')
  t.same(page[0].data, { name: 'Ada' }, 'the stream it decodes: plaintext')
  t.notOk(dump([page[1]]).includes('Bob'), 'the other stream: as stored (ciphertext), never decrypted')
  t.same(looked, [mine], 'only the decoded stream’s key was looked up')

  looked = []
  const seen: RecordedEvent[] = []
  const sub = store.subscribeToAll({ after: first.position - 1n, decodes }, async (e) => void (e.streamName.includes(tenant) && seen.push(e)))
  t.teardown(() => sub.close())
  await waitFor('both events delivered', () => seen.length === 2)
  t.same(seen[0].data, { name: 'Ada' }, 'subscription: the decoded stream opens')
  t.notOk(dump([seen[1]]).includes('Bob'), 'subscription: the other passes as stored')
  t.notOk(looked.includes(theirs), 'subscription: no key lookup for the other stream')
})

// The SQL store hands a fetched page on whole: one lookup. EventStoreDB streams events; what is
// buffered when the reader asks goes together, so the lookups are few, not one per event.
const mostLookups: Record<string, number> = { sql: 1, 'eventstoredb (test double)': 20 }
for (const [adapter, openRaw] of adapters) t.test(`${adapter}: a subscription's catch-up looks keys up a page at a time, not once per event`, async (t) => {
  const raw = await openRaw(t)
  const lookups: number[] = []
  const fresh = await openSqlPersonalDataKeys(db) // its own (empty) key cache, as a new reader process has
  // A lookup takes a round trip's time, as it does against PostgreSQL: events keep arriving meanwhile.
  const counting = {
    ...fresh,
    statesOf: async (streams: string[]) => {
      lookups.push(streams.length)
      await new Promise((r) => setTimeout(r, 20))
      return fresh.statesOf(streams)
    },
  }
  const writer = withPersonalDataEncryption(raw, keys)
  const tenant = `t${randomBytes(4).toString('hex')}`
  const streams = Array.from({ length: 60 }, (_, i) => employeeStreamName(tenant, `e${i}`))
  await writer.appendToStreams(streams.map((s, i) => ({ streamName: s, events: [{ id: randomUUID(), type: 'EmployeeImported', data: { name: `Person ${i}` } }] })))
  const store = withPersonalDataEncryption(raw, counting)
  const seen: RecordedEvent[] = []
  const sub = store.subscribeToAll({ streamPrefixes: [`employee-${tenant}_`] }, async (e) => void seen.push(e))
  t.teardown(() => sub.close())
  await waitFor('every event', () => seen.length === 60)
  t.same(seen.map((e) => e.data), streams.map((_, i) => ({ name: `Person ${i}` })), 'every event opened, in order')
  t.ok(lookups.length <= mostLookups[adapter], `key lookups for 60 new streams: ${lookups.length} (${lookups.join(', ')}), at most ${mostLookups[adapter]} (was one per event)`)
})
