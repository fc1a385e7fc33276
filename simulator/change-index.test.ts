import t from 'tap'
import fc from 'fast-check'
import { ChangeIndex } from './change-index.ts'
import type { SimRecord } from './generate-company.ts'
import { parseListQuery, selectPage } from './list-query.ts'

const at = (ms: number): string => new Date(Date.UTC(2024, 0, 1) + ms).toISOString()
const rec = (id: string, ms: number, extra: Record<string, unknown> = {}): SimRecord => ({ id, changed_at: at(ms), remote_deleted_at: null, ...extra })
const ids = (records: Iterable<SimRecord>): string[] => [...records].map((r) => r.id)

t.test('seed records come out in (changed_at, id) order, whatever order they came in', async (t) => {
  const index = new ChangeIndex([rec('c', 2), rec('b', 1), rec('a', 1), rec('d', 0)])
  t.same(ids(index.after()), ['d', 'a', 'b', 'c'])
})

t.test('an update moves the record to the end and its old version is no longer read', async (t) => {
  const index = new ChangeIndex([rec('a', 1), rec('b', 2), rec('c', 3)])
  index.set(rec('a', 4, { v: 2 }))
  t.same(ids(index.after()), ['b', 'c', 'a'])
  t.equal(index.size, 3)
  t.equal(index.get('a')?.v, 2)
})

t.test('after() starts strictly after a position; id null means after every id at that instant', async (t) => {
  const index = new ChangeIndex([rec('a', 1), rec('b', 1), rec('c', 2)])
  t.same(ids(index.after({ at: Date.parse(at(1)), id: 'a' })), ['b', 'c'])
  t.same(ids(index.after({ at: Date.parse(at(1)), id: null })), ['c'])
  t.same(ids(index.after({ at: Date.parse(at(0)), id: null })), ['a', 'b', 'c'])
  t.same(ids(index.after({ at: Date.parse(at(9)), id: null })), [])
})

t.test('a write that would sort before the newest change is refused (the change clock only moves forward)', async (t) => {
  const index = new ChangeIndex([rec('a', 5)])
  t.throws(() => index.set(rec('b', 4)), RangeError)
  t.same(ids(index.after()), ['a'], 'nothing was stored')
})

t.test('many updates of few records: reads stay correct across compactions', async (t) => {
  const index = new ChangeIndex([rec('a', 0), rec('b', 0)])
  for (let i = 1; i <= 5_000; i++) index.set(rec(i % 2 ? 'a' : 'b', i, { v: i }))
  t.same(
    [...index.after()].map((r) => [r.id, r.v]),
    [
      ['a', 4_999],
      ['b', 5_000],
    ],
  )
})

t.test('paging through a changing resource with cursors serves every record current at the end exactly once (property)', async () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 19 }), { maxLength: 60 }), fc.integer({ min: 1, max: 7 }), (updates, pageSize) => {
      const index = new ChangeIndex(Array.from({ length: 20 }, (_, i) => rec(`r${String(i).padStart(2, '0')}`, i % 5)))
      let clock = 10
      for (const u of updates) index.set(rec(`r${String(u).padStart(2, '0')}`, clock++, { v: clock }))
      const seen: SimRecord[] = []
      let query = parseListQuery({ page_size: String(pageSize), include_deleted: 'true' })
      for (;;) {
        const page = selectPage(index, query)
        seen.push(...page.results)
        if (!page.next) break
        query = parseListQuery({ page_size: String(pageSize), cursor: page.next })
      }
      const expected = [...index.after()]
      if (JSON.stringify(seen) !== JSON.stringify(expected)) throw new Error(`pages ${JSON.stringify(ids(seen))} != ${JSON.stringify(ids(expected))}`)
    }),
  )
})
