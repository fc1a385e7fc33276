// The behaviour every SyncStateStore adapter must have. Each adapter's test file runs it.
import type { Test } from 'tap'
import type { SyncStateStore } from '../../producers/sync-state/port.ts'

type Store = SyncStateStore & { close?(): Promise<void> }

const isoPattern = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/

export function runSyncStateContract(t: Test, open: () => Promise<Store>): void {
  const withStore = (name: string, fn: (t: Test, store: Store) => Promise<void>) =>
    t.test(name, async (t) => {
      const store = await open()
      t.teardown(() => store.close?.())
      await fn(t, store)
    })

  withStore('the initial sync: started by the first poll, polled frozen when polling finished, done when processed caught up', async (t, store) => {
    t.equal(await store.initialSync('acme'), null)
    await store.recordPollStarted('acme', 'employees')
    await store.recordPageHandedOn('acme', 'employees', 40)
    await store.recordPollSucceeded('acme', 'employees', '2026-03-01T10:00:00.000Z')
    await store.recordPollStarted('acme', 'groups')
    await store.recordPageHandedOn('acme', 'groups', 2)
    await store.recordProcessed(new Map([['acme', 12], ['globex', 5]]))
    const polling = await store.initialSync('acme')
    t.match(polling, { tenant: 'acme', polled: 42, processed: 12, pollingFinishedAt: null, finishedAt: null })
    t.match(polling?.startedAt, isoPattern)
    t.equal(await store.initialSync('globex'), null, 'processed records of a tenant without an initial sync start none')
    await store.recordInitialPollingFinished('acme')
    await store.recordPageHandedOn('acme', 'employees', 3)
    const processing = await store.initialSync('acme')
    t.equal(processing?.polled, 42, 'records of later rounds are not part of the initial sync')
    t.match(processing?.pollingFinishedAt, isoPattern)
    t.equal(processing?.finishedAt, null)
    await store.recordProcessed(new Map([['acme', 30]]))
    const done = await store.initialSync('acme')
    t.equal(done?.processed, 42)
    t.match(done?.finishedAt, isoPattern)
    await store.recordProcessed(new Map([['acme', 9]]))
    t.equal((await store.initialSync('acme'))?.processed, 42, 'a finished initial sync is no longer counted')
  })

  withStore('a tenant polled before initial syncs were recorded gets none', async (t, store) => {
    await store.recordPollStarted('acme', 'employees')
    t.ok(await store.initialSync('acme'))
    // A second tenant whose sync state predates the table: simulated by a resource row first.
    await store.recordPageHandedOn('old', 'employees', 1)
    await store.recordPollStarted('old', 'employees')
    t.equal(await store.initialSync('old'), null)
  })

  withStore('forgetting the watermarks of a tenant (a re-link) makes its next polls full listings; other tenants keep theirs', async (t, store) => {
    for (const resource of ['employees', 'groups'] as const) {
      await store.recordPollStarted('acme', resource)
      await store.recordPollSucceeded('acme', resource, '2026-03-01T10:00:00.000Z', { fullListingStartedAt: '2026-03-01T09:00:00.000Z' })
    }
    await store.recordPollStarted('globex', 'employees')
    await store.recordPollSucceeded('globex', 'employees', '2026-03-02T10:00:00.000Z', { fullListingStartedAt: '2026-03-02T09:00:00.000Z' })
    await store.forgetWatermarks('acme')
    for (const resource of ['employees', 'groups'] as const) {
      const state = await store.get('acme', resource)
      t.equal(state?.watermark, null, `${resource}: watermark forgotten`)
      t.equal(state?.lastFullReconcileAt, null, `${resource}: full-listing time forgotten`)
      t.match(state?.lastSuccessAt, isoPattern, `${resource}: the rest of its state is kept`)
    }
    const other = await store.get('globex', 'employees')
    t.equal(other?.watermark, '2026-03-02T10:00:00.000Z', 'another tenant keeps its watermark')
    t.equal(other?.lastFullReconcileAt, '2026-03-02T09:00:00.000Z')
    await store.forgetWatermarks('nobody') // a tenant never polled: nothing to do, no error
    await store.recordPollSucceeded('acme', 'employees', '2026-01-01T00:00:00.000Z')
    t.equal((await store.get('acme', 'employees'))?.watermark, '2026-01-01T00:00:00.000Z', 'after forgetting, an older watermark of the new integration is taken')
  })

  withStore('an unpolled resource has no state', async (t, store) => {
    t.equal(await store.get('acme', 'employees'), null)
    t.same(await store.list('acme'), [])
  })

  withStore('a successful poll records times, counts and the watermark', async (t, store) => {
    await store.recordPollStarted('acme', 'employees')
    const started = await store.get('acme', 'employees')
    t.match(started?.lastPollStartedAt, isoPattern)
    t.equal(started?.watermark, null)
    t.equal(started?.recordsSeen, 0)
    t.equal(started?.failing, false)
    await store.recordPageHandedOn('acme', 'employees', 100)
    await store.recordPageHandedOn('acme', 'employees', 7)
    await store.recordPollSucceeded('acme', 'employees', '2026-03-01T10:00:00.123Z')
    const s = await store.get('acme', 'employees')
    t.equal(s?.watermark, '2026-03-01T10:00:00.123Z', 'watermark kept exactly as given')
    t.equal(s?.recordsSeen, 107)
    t.match(s?.lastSuccessAt, isoPattern)
    t.equal(s?.lastSuccessAt, s?.lastPollFinishedAt)
    t.ok(Date.parse(s!.lastPollFinishedAt!) >= Date.parse(s!.lastPollStartedAt!), 'finished not before started')
    t.equal(s?.lastError, null)
  })

  withStore('the watermark never moves backwards, and null keeps it', async (t, store) => {
    await store.recordPollSucceeded('acme', 'groups', '2026-03-01T10:00:00.000Z')
    await store.recordPollSucceeded('acme', 'groups', '2026-02-01T10:00:00.000Z')
    t.equal((await store.get('acme', 'groups'))?.watermark, '2026-03-01T10:00:00.000Z')
    await store.recordPollSucceeded('acme', 'groups', null)
    t.equal((await store.get('acme', 'groups'))?.watermark, '2026-03-01T10:00:00.000Z')
    // compared as instants, not as strings: 11:30+02:00 is 09:30Z, earlier than 10:00Z
    await store.recordPollSucceeded('acme', 'groups', '2026-03-01T11:30:00+02:00')
    t.equal((await store.get('acme', 'groups'))?.watermark, '2026-03-01T10:00:00.000Z')
    await store.recordPollSucceeded('acme', 'groups', '2026-03-01T10:00:00.001Z')
    t.equal((await store.get('acme', 'groups'))?.watermark, '2026-03-01T10:00:00.001Z')
  })

  withStore('a failed poll keeps the watermark and records the error; success clears failing', async (t, store) => {
    await store.recordPollSucceeded('acme', 'absences', '2026-03-01T10:00:00.000Z')
    await store.recordPollFailed('acme', 'absences', new Error('Kombo unavailable'), false)
    let s = await store.get('acme', 'absences')
    t.equal(s?.watermark, '2026-03-01T10:00:00.000Z')
    t.equal(s?.lastError?.message, 'Kombo unavailable')
    t.match(s?.lastError?.at, isoPattern)
    t.equal(s?.failing, false)
    await store.recordPollFailed('acme', 'absences', 'credentials rejected', true)
    s = await store.get('acme', 'absences')
    t.equal(s?.failing, true)
    t.equal(s?.lastError?.message, 'credentials rejected')
    await store.recordPollSucceeded('acme', 'absences', null)
    s = await store.get('acme', 'absences')
    t.equal(s?.failing, false)
    t.equal(s?.watermark, '2026-03-01T10:00:00.000Z')
  })

  withStore('tenants and resources are kept apart; list is ordered by resource', async (t, store) => {
    await store.recordPageHandedOn('acme', 'groups', 1)
    await store.recordPageHandedOn('acme', 'employees', 2)
    await store.recordPageHandedOn('globex', 'employees', 5)
    await store.recordPollSucceeded('globex', 'employees', '2026-01-01T00:00:00.000Z')
    const acme = await store.list('acme')
    t.same(acme.map((s) => [s.tenant, s.resource, s.recordsSeen, s.watermark]), [
      ['acme', 'employees', 2, null],
      ['acme', 'groups', 1, null],
    ])
    t.same((await store.list('globex')).map((s) => s.recordsSeen), [5])
  })

  withStore('rejects nonsense input', async (t, store) => {
    await t.rejects(store.recordPageHandedOn('acme', 'employees', -1))
    await t.rejects(store.recordPollSucceeded('acme', 'employees', 'yesterday'))
  })
}
