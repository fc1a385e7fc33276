import t from 'tap'
import { PublishedVersions } from './published-versions.ts'

const rec = (id: string, title = 'x') => ({ id, changed_at: '2026-01-01T00:00:00.000Z', job_title: title })

t.test('knows the last published version of a record, and only that one', async (t) => {
  const versions = new PublishedVersions()
  versions.remember([rec('a'), rec('b')])
  t.ok(versions.has(rec('a')))
  t.notOk(versions.has(rec('a', 'changed')), 'another version of a')
  versions.remember([rec('a', 'changed')])
  t.ok(versions.has(rec('a', 'changed')))
  t.notOk(versions.has(rec('a')), 'the older version is no longer the last')
  t.notOk(versions.has({ changed_at: 'x' }), 'no id: never known')
})

t.test('bounded by count and by bytes, not by the number of records ever published', async (t) => {
  const company = Array.from({ length: 100_000 }, (_, i) => rec(`employee-${i}`))
  const defaults = new PublishedVersions()
  for (let i = 0; i < company.length; i += 1_000) defaults.remember(company.slice(i, i + 1_000))
  t.ok(defaults.size <= 20_000 && defaults.bytes <= 6 * 1024 * 1024, `${defaults.size} versions in ${defaults.bytes} bytes after 100k records (unbounded: 100,000)`)
  t.ok(defaults.has(company[99_999]), 'the most recently published are kept')
  t.notOk(defaults.has(company[0]), 'the oldest went: the next full reconcile publishes it again, which the processor finds unchanged')
  const byBytes = new PublishedVersions({ maxEntries: 100_000, maxBytes: 10_000 })
  byBytes.remember(company.slice(0, 1_000))
  t.ok(byBytes.bytes <= 10_000 && byBytes.size < 100, `${byBytes.size} versions in ${byBytes.bytes} bytes`)
})
