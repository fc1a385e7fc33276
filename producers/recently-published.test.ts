import t from 'tap'
import { RecentlyPublished } from './recently-published.ts'

const rec = (id: string, changedAt: string, title = 'x') => ({ id, changed_at: changedAt, job_title: title })

t.test('an exact repeat of a published version is known; anything else is not', async (t) => {
  const published = new RecentlyPublished()
  published.remember([rec('a', '2026-01-01T00:00:10.000Z')])
  t.ok(published.has(rec('a', '2026-01-01T00:00:10.000Z')), 'same id, changed_at and content')
  t.notOk(published.has(rec('a', '2026-01-01T00:00:11.000Z')), 'a later version')
  t.notOk(published.has(rec('a', '2026-01-01T00:00:09.000Z')), 'an older changed_at: a late write the overlap exists for')
  t.notOk(published.has(rec('a', '2026-01-01T00:00:10.000Z', 'y')), 'same changed_at but other content')
  t.notOk(published.has(rec('b', '2026-01-01T00:00:10.000Z')), 'another record')
})

t.test('records without a string id or a readable changed_at are never skipped', async (t) => {
  const published = new RecentlyPublished()
  const odd = [{ changed_at: '2026-01-01T00:00:00.000Z' }, { id: 'c', changed_at: 'not a date' }, null, 'text']
  published.remember(odd)
  for (const r of odd) t.notOk(published.has(r), JSON.stringify(r))
  t.equal(published.size, 0)
})

t.test('forgetChangedBefore drops only versions older than the instant', async (t) => {
  const published = new RecentlyPublished()
  published.remember([rec('old', '2026-01-01T00:00:00.000Z'), rec('edge', '2026-01-01T00:01:00.000Z'), rec('new', '2026-01-01T00:02:00.000Z')])
  published.forgetChangedBefore(Date.parse('2026-01-01T00:01:00.000Z'))
  t.notOk(published.has(rec('old', '2026-01-01T00:00:00.000Z')))
  t.ok(published.has(rec('edge', '2026-01-01T00:01:00.000Z')))
  t.ok(published.has(rec('new', '2026-01-01T00:02:00.000Z')))
  t.equal(published.size, 2)
})
