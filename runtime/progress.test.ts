import t from 'tap'
import { formatInitialSync, formatRebuild, formatWork, initialSyncProgress, rebuildProgress, startWorkReporter, workProgress } from './progress.ts'
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

t.test('work progress: percent and ETA with a total, what is known without', async (t) => {
  const p = workProgress(2_500, 10_000, 5_000)
  t.same(p, { done: 2_500, total: 10_000, percent: 25, ratePerSecond: 500, etaSeconds: 15 })
  t.equal(formatWork('replay', 'records', p), 'replay: 2,500 of 10,000 records · 25% · 500 records/s · ETA 15s')
  const unknown = workProgress(2_500, null, 5_000)
  t.same(unknown, { done: 2_500, total: null, percent: null, ratePerSecond: 500, etaSeconds: null })
  t.equal(formatWork('redrive', 'dead letters', unknown), 'redrive: 2,500 dead letters · 500 dead letters/s · total not yet known')
  t.equal(workProgress(0, 10, 0).etaSeconds, null, 'no rate yet: no ETA')
  t.equal(workProgress(0, 0, 1_000).percent, 100, 'nothing to do is done')
  t.equal(workProgress(12, 10, 1_000).percent, 100, 'never over 100%')
  t.equal(workProgress(12, 10, 1_000).etaSeconds, 0)
})

t.test('the work reporter logs at its interval, measuring the rate on the clock it is given', async (t) => {
  let clock = 1_000_000
  let done = 0
  const lines: Array<{ o: any; m: string }> = []
  const reporter = startWorkReporter({
    what: 'replay',
    unit: 'records',
    read: () => ({ done, total: 400 }),
    logger: { info: (o, m) => void lines.push({ o, m }) },
    now: () => clock,
    intervalMs: 5,
  })
  t.teardown(() => reporter.stop())
  clock += 10_000
  done = 100
  await new Promise((resolve) => setTimeout(resolve, 60)) // real time for the timer; the fake clock stands still
  t.ok(lines.length >= 1, `${lines.length} line(s) on the interval`)
  t.equal(lines[0].m, 'replay: 100 of 400 records · 25% · 10 records/s · ETA 30s')
  t.match(lines[0].o, { progress: 'replay', done: 100, total: 400, percent: 25, etaSeconds: 30 })
  reporter.stop()
  const after = lines.length
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(lines.length, after, 'stopped: no more lines')
  clock += 30_000
  done = 400
  t.same(reporter.line(), { done: 400, total: 400, percent: 100, ratePerSecond: 10, etaSeconds: 0 }, 'line() logs at once')
  t.equal(lines.at(-1)!.m, 'replay: 400 of 400 records · 100% · 10 records/s · ETA 0s')
})
