// Delivery faults on the embedded pipeline: the same Kombo page twice, a page with an older
// version of a record, a watermark moved back, and the change log redelivering everything. Each
// must leave the event streams and the views exactly as they were.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { KomboClient } from '../../producers/kombo/client.ts'
import { minimisingClient } from '../../producers/minimise-record.ts'
import type { ChangeEnvelope } from '../../schemas/envelope.ts'
import { startTestSimulator, startTestService, syncNow, caughtUp, canonicalDump, controllableClock } from '../support/e2e-story.ts'
import { recordTrial } from '../support/reliability-log.ts'

const test = 'test/reliability/delivery-faults.test.ts'

/** The first page as the poller publishes it: through the same data-minimising client. */
async function firstEmployeePage(url: string): Promise<ChangeEnvelope[]> {
  const client = minimisingClient(new KomboClient({ baseUrl: url, apiKey: 'delivery-test-key' }))
  const page = await client.listPage('demo', 'employees', { pageSize: 50, includeDeleted: true })
  const fetchedAt = new Date().toISOString()
  const pollId = randomUUID()
  return page.results.map((record) => ({ tenant: 'demo', integrationId: 'demo', resource: 'employees', fetchedAt, pollId, record }) as ChangeEnvelope)
}

t.test('delivery faults change nothing that should not change', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock, 60)
  const { service, dataDir } = await startTestService(t, { simulator, clock })
  await syncNow(service)
  const company = simulator.integration('demo')

  await t.test('the same Kombo page delivered twice', async (t) => {
    const before = await canonicalDump(service)
    const page = await firstEmployeePage(simulator.url)
    t.equal(page.length, 50, 'a page of 50 employees')
    await service.stores.changeLog.publish(page)
    await service.stores.changeLog.publish(page)
    await caughtUp(service)
    const after = await canonicalDump(service)
    t.same(after.events, before.events, 'no event appended')
    t.same(after.users, before.users, 'views unchanged')
    recordTrial({ fault: 'the same Kombo page (50 employees) delivered twice more', area: 'delivery', mode: 'embedded', times: 2, outcome: 'folded as unchanged', lost: 'nothing; no duplicate event', test, passed: t.passing() })
  })

  await t.test('a page holding an older version of a record', async (t) => {
    const old = (await firstEmployeePage(simulator.url))[0]
    company.update('employees', old.record.id, { job_title: 'Newer Title' })
    await syncNow(service)
    const before = await canonicalDump(service)
    t.equal(before.users.find((u) => u.externalId === old.record.id)?.jobTitle, 'Newer Title', 'the newer version is in the view')
    await service.stores.changeLog.publish([{ ...old, pollId: randomUUID(), fetchedAt: new Date().toISOString() }])
    await caughtUp(service)
    const after = await canonicalDump(service)
    t.same(after.events, before.events, 'the older version appends nothing')
    t.same(after.users, before.users, 'the view keeps the newer version')
    recordTrial({ fault: 'a page with an older version of a record (after the newer one)', area: 'delivery', mode: 'embedded', times: 1, outcome: 'ignored as older', lost: 'nothing; the newer state stays', test, passed: t.passing() })
  })

  await t.test('the watermark moved back (sync state edited)', async (t) => {
    const before = await canonicalDump(service)
    const seen = async () => (await service.stores.syncState.list('demo')).reduce((n, s) => n + s.recordsSeen, 0)
    const seenBefore = await seen()
    const { rows } = await service.stores.db.query<{ n: number }>(
      "UPDATE kombo_sync_state SET watermark = '2000-01-01T00:00:00.000Z' WHERE tenant = 'demo' RETURNING 1 AS n",
    )
    t.equal(rows.length, 6, 'every resource watermark moved back to 2000')
    await syncNow(service)
    const resent = (await seen()) - seenBefore
    t.ok(resent > 60, `the whole company was read again (${resent} records)`)
    const after = await canonicalDump(service)
    t.same(after.events, before.events, 'no event appended')
    t.same(after.users, before.users, 'views unchanged')
    await service.stores.db.query("UPDATE kombo_sync_state SET watermark = NULL WHERE tenant = 'demo'")
    await syncNow(service)
    t.same((await canonicalDump(service)).events, before.events, 'a watermark reset to nothing (full re-read) appends nothing either')
    recordTrial({ fault: 'watermark moved back (to 2000, then cleared) in the sync state', area: 'delivery', mode: 'embedded', times: 2, outcome: 'everything re-read and folded as unchanged', lost: 'nothing; no duplicate event', test, passed: t.passing() })
  })

  await t.test('the change log redelivers everything after a restart', async (t) => {
    const before = await canonicalDump(service)
    await service.stores.db.query('DELETE FROM change_log_offsets')
    const { rows } = await service.stores.db.query<{ n: string }>('SELECT count(*)::text AS n FROM change_log')
    t.ok(Number(rows[0].n) > 60, `${rows[0].n} change records will be delivered again`)
    t.comment('restarting the service so the consumer reads its (now reset) positions')
    await service.stop()
    const restarted = await startTestService(t, { simulator, clock, env: { DATA_DIR: dataDir } })
    await caughtUp(restarted.service)
    const processed = await restarted.service.metrics.recordsProcessed.get()
    const total = processed.values.reduce((n, v) => n + v.value, 0)
    t.ok(total >= Number(rows[0].n), `the processor went through the redelivered records again (${total})`)
    const after = await canonicalDump(restarted.service)
    t.same(after.events, before.events, 'no event appended')
    t.same(after.users, before.users, 'views unchanged')
    recordTrial({ fault: 'change log redelivers every record (committed positions deleted, restart)', area: 'delivery', mode: 'embedded', times: 1, outcome: `${total} records processed again, all unchanged`, lost: 'nothing; no duplicate event', test, passed: t.passing() })
  })
})
