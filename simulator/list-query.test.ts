import t from 'tap'
import type { SimRecord } from './generate-company.ts'
import { ListQueryError, parseListQuery, selectPage } from './list-query.ts'

const rec = (id: string, changedAt: string, deleted = false): SimRecord => ({ id, remote_id: `r-${id}`, changed_at: changedAt, remote_deleted_at: deleted ? changedAt : null })
const records = [rec('a', '2024-01-01T00:00:00.000Z'), rec('b', '2024-01-01T00:00:00.000Z'), rec('c', '2024-01-02T00:00:00.000Z', true), rec('d', '2024-01-03T00:00:00.000Z')]

t.test('page_size defaults to 100 and must be 1..250', async (t) => {
  t.equal(parseListQuery({}).pageSize, 100)
  t.equal(parseListQuery({ page_size: '250' }).pageSize, 250)
  for (const bad of ['0', '251', 'abc', '1.5']) t.throws(() => parseListQuery({ page_size: bad }), ListQueryError, bad)
})

t.test('updated_after is strict: a record exactly at the instant is not returned', async (t) => {
  const page = selectPage(records, parseListQuery({ updated_after: '2024-01-01T00:00:00.000Z', include_deleted: 'true' }))
  t.same(page.results.map((r) => r.id), ['c', 'd'])
  t.throws(() => parseListQuery({ updated_after: 'yesterday' }), ListQueryError)
})

t.test('deleted records are hidden unless include_deleted=true', async (t) => {
  t.same(selectPage(records, parseListQuery({})).results.map((r) => r.id), ['a', 'b', 'd'])
  t.same(selectPage(records, parseListQuery({ include_deleted: 'true' })).results.map((r) => r.id), ['a', 'b', 'c', 'd'])
  t.throws(() => parseListQuery({ include_deleted: 'yes' }), ListQueryError)
})

t.test('the cursor continues after ties on changed_at and keeps the first page filters', async (t) => {
  const first = selectPage(records, parseListQuery({ page_size: '1', include_deleted: 'true' }))
  t.same(first.results.map((r) => r.id), ['a'])
  t.type(first.next, 'string')
  const second = selectPage(records, parseListQuery({ page_size: '2', cursor: first.next as string }))
  t.same(second.results.map((r) => r.id), ['b', 'c'], 'include_deleted came from the cursor')
  const third = selectPage(records, parseListQuery({ page_size: '2', cursor: second.next as string }))
  t.same(third.results.map((r) => r.id), ['d'])
  t.equal(third.next, null)
  t.throws(() => parseListQuery({ cursor: 'not-a-cursor' }), ListQueryError)
})

t.test('ids and remote_ids filter; unknown ids are a 404', async (t) => {
  t.same(selectPage(records, parseListQuery({ ids: 'a,d' })).results.map((r) => r.id), ['a', 'd'])
  t.same(selectPage(records, parseListQuery({ remote_ids: 'r-b' })).results.map((r) => r.id), ['b'])
  const err = t.throws(() => selectPage(records, parseListQuery({ ids: 'a,zzz' }))) as ListQueryError
  t.equal(err.status, 404)
})
