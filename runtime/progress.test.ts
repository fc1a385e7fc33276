import t from 'tap'
import { formatInitialSync, formatRebuild, initialSyncProgress, rebuildProgress } from './progress.ts'
import { InMemorySyncStateStore } from '../producers/sync-state/memory.ts'

const now = new Date('2026-03-01T09:00:20.000Z')
const record = { tenant: 'demo', startedAt: '2026-03-01T09:00:00.000Z', pollingFinishedAt: null, polled: 12_000, processed: 9_500, finishedAt: null }

t.test('initial sync state follows polling, processing and done', async (t) => {
  t.equal(initialSyncProgress(null, 0, now).state, 'not_started')
  t.equal(initialSyncProgress(null, 7, now, true).state, 'done', 'a tenant polled before initial syncs were recorded')
  const polling = initialSyncProgress(record, 9_000, now)
  t.equal(polling.state, 'polling')
  t.equal(polling.ratePerSecond, 475, '9,500 processed in 20 s')
  t.equal(formatInitialSync(polling), 'initial sync: polled 12,000 · processed 9,500 · visible 9,000 · 475 records/s')
  t.equal(initialSyncProgress({ ...record, pollingFinishedAt: '2026-03-01T09:00:10.000Z' }, 9_000, now).state, 'processing')
  const done = initialSyncProgress({ ...record, pollingFinishedAt: '2026-03-01T09:00:10.000Z', processed: 12_000, finishedAt: '2026-03-01T09:00:30.000Z' }, 11_000, now)
  t.equal(done.state, 'done')
  t.equal(done.ratePerSecond, 400, 'the rate stops at finishedAt: 12,000 in 30 s')
})

t.test('rebuild progress has percent and ETA', async (t) => {
  const p = rebuildProgress(250, 1_000, 10_000)
  t.same(p, { done: 250, total: 1_000, percent: 25, ratePerSecond: 25, etaSeconds: 30 })
  t.equal(formatRebuild(p), 'rebuild: 250 of 1,000 events · 25% · 25 events/s · ETA 30s')
  t.equal(rebuildProgress(0, 1_000, 0).etaSeconds, null, 'no rate yet: no ETA')
  t.equal(rebuildProgress(0, 0, 5).percent, 100, 'an empty store is rebuilt at once')
})

t.test('the memory sync-state store records the initial sync as the SQL one', async (t) => {
  let clock = Date.parse('2026-03-01T09:00:00.000Z')
  const store = new InMemorySyncStateStore(() => new Date(clock))
  await store.recordPollStarted('demo', 'employees')
  await store.recordPageHandedOn('demo', 'employees', 30)
  await store.recordProcessed(new Map([['demo', 10]]))
  t.match(await store.initialSync('demo'), { polled: 30, processed: 10, pollingFinishedAt: null, finishedAt: null })
  clock += 5000
  await store.recordInitialPollingFinished('demo')
  await store.recordPageHandedOn('demo', 'employees', 5) // a later round: not part of the initial sync
  t.match(await store.initialSync('demo'), { polled: 30, pollingFinishedAt: '2026-03-01T09:00:05.000Z', finishedAt: null })
  await store.recordProcessed(new Map([['demo', 20]]))
  t.match(await store.initialSync('demo'), { processed: 30, finishedAt: '2026-03-01T09:00:05.000Z' })
  await store.recordPollStarted('demo', 'groups')
  t.equal((await store.initialSync('demo'))?.startedAt, '2026-03-01T09:00:00.000Z', 'started at the first poll only')
})
