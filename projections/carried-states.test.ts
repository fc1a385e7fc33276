// The rebuild's carried states (carried-states.ts): a batch reads carried states from memory and
// stages its own; they are written when maxStates are waiting or when forced; an erased employee's
// carried state is dropped before the next batch can read or write it back.
import t from 'tap'
import { CarriedStates } from './carried-states.ts'
import type { ViewTransaction } from './viewstore/port.ts'
import { streamName } from '../schemas/streams.ts'

type Row = Parameters<ViewTransaction['saveStates']>[1][number]
const row = (category: Row['category'], id: string, state: unknown): Row => ({ category, id, state, nextDueAt: null, decidedAt: null })

/** A transaction over an in-memory table of states: what was read from it and written to it. */
function fakeTx(stored: Map<string, unknown> = new Map()) {
  const read: string[] = []
  const written: Array<{ tenant: string; ids: string[] }> = []
  const tx = {
    loadStates: async (tenant: string, category: string, ids: string[]) => {
      read.push(...ids)
      const out = new Map<string, { state: unknown; decidedAt: Date | null }>()
      for (const id of ids) if (stored.has(`${tenant}/${category}/${id}`)) out.set(id, { state: stored.get(`${tenant}/${category}/${id}`), decidedAt: null })
      return out
    },
    saveStates: async (tenant: string, rows: Row[]) => {
      written.push({ tenant, ids: rows.map((r) => r.id).sort() })
      for (const r of rows) stored.set(`${tenant}/${r.category}/${r.id}`, r.state)
    },
  } as unknown as ViewTransaction
  return { tx, read, written, stored }
}

t.test('states staged by a batch are carried after it commits, read from memory by the next, written when maxStates wait', async (t) => {
  const carried = new CarriedStates(3)
  const first = fakeTx()
  const a = await carried.stage(first.tx, null)
  await a.tx.saveStates('acme', [row('employee', 'e1', { v: 1 }), row('team', 't1', { v: 1 })])
  t.equal(await a.settle(false), false, '2 of 3: nothing written')
  t.same(first.written, [])
  a.commit()
  t.equal(carried.size, 2)

  const second = fakeTx(new Map([['acme/employee/e2', { v: 0 }]]))
  const b = await carried.stage(second.tx, null)
  const states = await b.tx.loadStates('acme', 'employee', ['e1', 'e2'])
  t.same(states.get('e1')?.state, { v: 1 }, 'carried: from memory')
  t.same(states.get('e2')?.state, { v: 0 }, 'not carried: from the transaction')
  t.same(second.read, ['e2'], 'only the state not carried is read')
  await b.tx.saveStates('acme', [row('employee', 'e1', { v: 2 }), row('employee', 'e2', { v: 1 })])
  t.equal(await b.settle(false), true, 'e1 (again), t1, e2: 3 states wait, counted once each')
  t.same(second.written, [{ tenant: 'acme', ids: ['e1', 'e2', 't1'] }])
  t.same(second.stored.get('acme/employee/e1'), { v: 2 }, "the batch's own state wins over the carried one")
  b.commit()
  t.equal(carried.size, 0, 'written: nothing carried any more')
})

t.test('a batch that fails (no commit) leaves the carried states as they were', async (t) => {
  const carried = new CarriedStates(10)
  const first = await carried.stage(fakeTx().tx, null)
  await first.tx.saveStates('acme', [row('employee', 'e1', { v: 1 })])
  first.commit()
  const failed = await carried.stage(fakeTx().tx, null)
  await failed.tx.saveStates('acme', [row('employee', 'e1', { v: 99 }), row('employee', 'e2', { v: 1 })])
  const retry = fakeTx()
  const again = await carried.stage(retry.tx, null)
  t.same((await again.tx.loadStates('acme', 'employee', ['e1'])).get('e1')?.state, { v: 1 })
  t.equal(carried.size, 1)
})

t.test("an erased employee's carried state is dropped: neither read by the next batch nor written back", async (t) => {
  const carried = new CarriedStates(10)
  const first = await carried.stage(fakeTx().tx, null)
  await first.tx.saveStates('acme', [row('employee', 'e1', { v: 1 }), row('employee', 'e2', { v: 1 }), row('team', 'e1', { v: 1 })])
  first.commit()
  const asked: string[][] = []
  const erasedIn = async (_tx: ViewTransaction, streams: string[]) => {
    asked.push([...streams].sort())
    return new Set([streamName('employee', 'acme', 'e1')])
  }
  const next = fakeTx()
  const b = await carried.stage(next.tx, erasedIn)
  t.same(asked, [[streamName('employee', 'acme', 'e1'), streamName('employee', 'acme', 'e2')].sort()], 'only employee streams are asked about')
  t.equal(carried.size, 2, "e1's employee state dropped; the team of the same id kept")
  t.equal((await b.tx.loadStates('acme', 'employee', ['e1'])).has('e1'), false, 'not served from memory: read from the views (where the erasure deleted it)')
  t.same(next.read, ['e1'])
  await b.settle(true)
  t.same(next.written, [{ tenant: 'acme', ids: ['e1', 'e2'] }], 'written back: e2 and the team e1, not the erased employee')
  t.ok(next.stored.has('acme/team/e1') && !next.stored.has('acme/employee/e1'))
})
