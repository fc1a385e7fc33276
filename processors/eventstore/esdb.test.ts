// The event-store contract on the EventStoreDB adapter, driven by the real @eventstore/db-client
// over gRPC: (a) against the in-process EventStoreDB test double, (b) against a real EventStoreDB
// when EVENTSTORE_CONNECTION_STRING is set.
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { runEventStoreContract } from '../../test/contracts/event-store.contract.ts'
import { startEsdbDouble } from '../../test/support/esdb-double/index.ts'
import { settle, waitFor } from '../../test/support/wait-for.ts'
import { EventStoreOperationError, SubscriptionDroppedError, openEsdbEventStore } from './esdb.ts'
import { WrongExpectedRevisionError } from './port.ts'

t.test('EventStoreDB adapter on the test double', async (t) => {
  runEventStoreContract(t, async () => {
    const double = await startEsdbDouble()
    const store = openEsdbEventStore(double.connectionString)
    return {
      store,
      cleanup: async () => {
        await store.close()
        await double.close()
      },
    }
  })
})

const realServer = process.env.EVENTSTORE_CONNECTION_STRING
t.test('EventStoreDB adapter on a real EventStoreDB', { skip: realServer ? false : 'set EVENTSTORE_CONNECTION_STRING (e.g. esdb://localhost:2113?tls=false after `docker compose up eventstore`) to run it' }, async (t) => {
  runEventStoreContract(t, async () => {
    const store = openEsdbEventStore(realServer!)
    return { store, cleanup: () => store.close() }
  })
})

// What the contract does not cover: failure reporting of subscriptions, hiding ESDB's system
// events, the store closing its subscriptions, and the double's partial-retry rule.
t.test('EventStoreDB adapter specifics (on the test double)', async (t) => {
  const open = async (t: Test) => {
    const double = await startEsdbDouble()
    const store = openEsdbEventStore(double.connectionString)
    t.teardown(async () => {
      await store.close()
      await double.close()
    })
    return { double, store }
  }
  const event = (type = 'SomethingHappened') => ({ id: randomUUID(), type, data: { at: type } })

  t.test('a failing handler drops the subscription and reports it through onError', async (t) => {
    const { store } = await open(t)
    await store.appendToStream('employee-a', [event(), event()])
    const errors: Error[] = []
    let calls = 0
    const sub = store.subscribeToAll({ streamPrefixes: ['employee-'], onError: (err) => errors.push(err) }, async () => {
      calls++
      throw new Error('projection failed')
    })
    await waitFor('the error', () => errors.length > 0)
    t.ok(errors[0] instanceof SubscriptionDroppedError, 'a SubscriptionDroppedError')
    t.equal((errors[0] as SubscriptionDroppedError).retriable, true)
    t.match(errors[0].message, /employee-a@0/, 'names the event the handler failed on')
    t.equal((errors[0].cause as Error).message, 'projection failed', 'keeps the handler error as the cause')
    await store.appendToStream('employee-a', [event()])
    await settle(100)
    t.equal(calls, 1, 'no delivery after the failure')
    await sub.close()
  })

  t.test('a server going away drops the subscription and reports it', async (t) => {
    const { double, store } = await open(t)
    const errors: Error[] = []
    const seen: string[] = []
    store.subscribeToAll({ onError: (err) => errors.push(err) }, async (e) => {
      seen.push(e.id)
    })
    const first = event()
    await store.appendToStream('employee-b', [first])
    await waitFor('the first event', () => seen.length === 1)
    await double.close()
    await waitFor('the error', () => errors.length > 0)
    t.ok(errors[0] instanceof SubscriptionDroppedError, 'a SubscriptionDroppedError')
    t.same(seen, [first.id])
  })

  t.test('system streams and $-typed events are never returned', async (t) => {
    const { store } = await open(t)
    await store.appendToStream('$$employee-c', [event('$metadata')])
    await store.appendToStream('$settings', [event('Settings')])
    const visible = event()
    await store.appendToStream('employee-c', [event('$internal'), visible])
    t.same((await store.readAll()).map((e) => e.id), [visible.id], 'readAll without a filter')
    const seen: string[] = []
    const sub = store.subscribeToAll({}, async (e) => {
      seen.push(e.id)
    })
    const marker = event('Marker')
    await store.appendToStream('team-c', [marker])
    await waitFor('the marker', () => seen.includes(marker.id))
    t.same(seen, [visible.id, marker.id], 'a subscription without a filter')
    await sub.close()
  })

  t.test('closing the store closes its open subscriptions', async (t) => {
    const double = await startEsdbDouble()
    t.teardown(() => double.close())
    const store = openEsdbEventStore(double.connectionString)
    const errors: Error[] = []
    store.subscribeToAll({ onError: (err) => errors.push(err) }, async () => {})
    await store.appendToStream('employee-d', [event()])
    await store.close()
    await settle(50)
    t.same(errors, [], 'a closed subscription is not reported as dropped')
  })

  t.test('a retry that only partly matches the written ids is a conflict, not a no-op', async (t) => {
    const { store } = await open(t)
    const [a, b, c] = [event(), event(), event()]
    await store.appendToStream('employee-e', [a, b], { expectedRevision: 'no_stream' })
    await t.rejects(store.appendToStream('employee-e', [a, c], { expectedRevision: 'no_stream' }), WrongExpectedRevisionError)
    await t.rejects(store.appendToStream('employee-e', [a, c], { expectedRevision: 'any' }), WrongExpectedRevisionError)
    t.same((await store.readStream('employee-e')).map((e) => e.id), [a.id, b.id])
  })

  t.test('other failures are typed and say whether a retry can help', async (t) => {
    const double = await startEsdbDouble()
    const store = openEsdbEventStore(double.connectionString)
    await double.close()
    const err = await store.appendToStream('employee-f', [event()]).catch((e: unknown) => e)
    t.ok(err instanceof EventStoreOperationError, 'an EventStoreOperationError')
    t.equal((err as EventStoreOperationError).retriable, true, 'an unreachable server is worth retrying')
    await store.close()
  })
})
