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

const at = (ms: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + ms).toISOString()
const clock = () => Date.parse('2026-02-01T00:00:00.000Z')

t.test('a whole-company listing (oldest first, as Kombo pages) never holds the whole company', async (t) => {
  // 100k records changed over 30 days, read in pages of 100: only the last overlap can come back.
  const published = new RecentlyPublished({ now: clock })
  const spacing = Math.floor((30 * 86_400_000) / 100_000)
  let most = 0
  for (let page = 0; page < 1_000; page++) {
    published.remember(Array.from({ length: 100 }, (_, i) => rec(`e-${page * 100 + i}`, at((page * 100 + i) * spacing))))
    most = Math.max(most, published.size)
  }
  t.ok(most <= 2_100, `at most ${most} versions held during the listing (without pruning: 100,000)`)
  const last = 99_999
  t.ok(published.has(rec(`e-${last}`, at(last * spacing))), 'the newest version is still known')
  t.ok(published.has(rec(`e-${last - 2}`, at((last - 2) * spacing))), 'and those within the overlap of it')
})

t.test('a listing that changed all at once is capped by count and by bytes', async (t) => {
  const byCount = new RecentlyPublished({ now: clock, limits: { maxEntries: 500, maxBytes: 1 << 20 } })
  const sameMinute = Array.from({ length: 5_000 }, (_, i) => rec(`e-${i}`, at(i)))
  byCount.remember(sameMinute)
  t.equal(byCount.size, 500, 'the count bound holds (nothing is older than the overlap here)')
  t.ok(byCount.has(sameMinute[4_999]), 'the most recently published are kept')
  t.notOk(byCount.has(sameMinute[0]), 'the first ones went: the next poll publishes them again, which the processor finds unchanged')
  const byBytes = new RecentlyPublished({ now: clock, limits: { maxEntries: 100_000, maxBytes: 50_000 } })
  byBytes.remember(sameMinute)
  t.ok(byBytes.bytes <= 50_000 && byBytes.size < 500, `${byBytes.size} versions in ${byBytes.bytes} bytes`)
})

t.test('a record stamped far in the future does not make the pruning drop the real overlap', async (t) => {
  const published = new RecentlyPublished({ now: () => Date.parse(at(0)) })
  published.remember([rec('broken-clock', at(365 * 86_400_000))])
  const recent = Array.from({ length: 2_000 }, (_, i) => rec(`e-${i}`, at(-i)))
  published.remember(recent)
  t.ok(recent.every((r) => published.has(r)), 'versions within the overlap of now are all kept')
})
