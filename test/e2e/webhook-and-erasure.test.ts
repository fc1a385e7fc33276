// End to end on the embedded pipeline with a simulator-backed service: a signed Kombo webhook
// makes a new hire appear without waiting for the poll interval; a GDPR erasure (API and CLI)
// removes the employee's personal data from the views and the event store, stays in force when
// the HR system changes the employee again, and is audited.
import t from 'tap'
import { createHmac, randomBytes } from 'node:crypto'
import { loadConfig } from '../../config/config.ts'
import { createLogger } from '../../runtime/logger.ts'
import { runAdminCommand } from '../../runtime/admin.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import { erasureStreamName } from '../../schemas/erasure.ts'
import type { RunningService } from '../../runtime/service.ts'
import type { RecordedEvent } from '../../processors/eventstore/port.ts'
import { apiClient, controllableClock, startTestService, startTestSimulator, TOKEN } from '../support/e2e-story.ts'
import { projectedStreamPrefixes } from '../../projections/projector.ts'
import { waitFor } from '../support/wait-for.ts'

const SECRET = 'e2e-kombo-webhook-secret'

async function postWebhook(service: RunningService, body: object, secret = SECRET) {
  const raw = JSON.stringify(body)
  const res = await fetch(`${service.url}/v1/webhooks/kombo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-kombo-signature': createHmac('sha256', secret).update(raw).digest('base64url') },
    body: raw,
  })
  return { status: res.status, body: (await res.json()) as any }
}

async function erase(service: RunningService, id: string, body: object) {
  const res = await fetch(`${service.url}/v1/tenants/demo/users/${id}/personal-data`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as any }
}

/**
 * Polls now and waits until the views reflect every projected event. (Unlike the story's helper it
 * looks at projected streams only: the erasure audit stream is never projected.)
 */
async function syncNow(service: RunningService): Promise<void> {
  await service.pollers.get('demo')!.pollNow()
  let stable = 0
  let last = -1n
  await waitFor('pipeline to settle', async () => {
    const page = await service.stores.eventStore.readAll({ after: last < 0n ? undefined : last, maxCount: 10_000, streamPrefixes: projectedStreamPrefixes })
    if (page.length) last = page[page.length - 1].position
    const checkpoint = await service.stores.views.checkpoint('learnamp-views')
    stable = page.length === 0 && (last < 0n || (checkpoint !== null && checkpoint >= last)) ? stable + 1 : 0
    return stable >= 5
  }, 60_000, 40)
}

/** Everything the event store holds, as stored (what a backup or a database dump would show). */
const storedText = async (service: RunningService) =>
  JSON.stringify((await service.stores.rawEventStore.readAll()).map((e: RecordedEvent) => [e.streamName, e.type, e.data, e.metadata]))

t.test('a signed Kombo webhook triggers an immediate poll; forged and replayed ones do not', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock)
  // POLL_INTERVAL_MS is 10 minutes in these services: only the webhook can bring the hire in.
  const { service } = await startTestService(t, { simulator, clock, env: { KOMBO_WEBHOOK_SECRET: SECRET } })
  await syncNow(service)
  const api = apiClient(service)

  const hire = simulator.integration('demo').hire({ first_name: 'Webb', last_name: 'Hooker' })
  const forged = await postWebhook(service, { id: 'wh_forged', type: 'data-changed', data: { integration_id: 'demo' } }, 'not-the-secret')
  t.equal(forged.status, 401, 'a forged webhook is refused')
  t.equal(forged.body.error.code, 'invalid_signature')

  const delivery = { id: `wh_${randomBytes(4).toString('hex')}`, type: 'data-changed', data: { integration_id: 'demo', changed_models: [{ name: 'hris_employees' }] } }
  const accepted = await postWebhook(service, delivery)
  t.equal(accepted.status, 202)
  await waitFor('the new hire to appear through the API', async () => (await api.user(hire.id)) !== null, 60_000, 200)
  t.equal((await api.user(hire.id)).displayName, 'Webb Hooker')

  const replay = await postWebhook(service, delivery)
  t.equal(replay.status, 409, 'the same delivery again is rejected as a replay')
  const unknown = await postWebhook(service, { id: 'wh_other', type: 'sync-finished', data: { integration_id: 'someone-else' } })
  t.equal(unknown.status, 202, 'an integration we do not sync is accepted and ignored')

  // data-changed polls only what changed, as Kombo recommends.
  const team = simulator.integration('demo').list('groups').find((g) => g.type === 'TEAM')!
  simulator.integration('demo').update('groups', team.id, { name: 'Webhook Renamed Team' })
  const logged = simulator.requestLog.length
  const teamsChanged = await postWebhook(service, { id: 'wh_teams', type: 'data-changed', data: { integration_id: 'demo', integration_tool: 'personio', integration_category: 'HRIS', changed_models: [{ name: 'hris_teams' }] } })
  t.equal(teamsChanged.status, 202)
  await waitFor('the renamed team to appear through the API', async () => (await api.get(`/teams/${team.id}`)).body?.name === 'Webhook Renamed Team', 60_000, 200)
  const polled = new Set(simulator.requestLog.slice(logged).map((r) => r.path))
  t.same([...polled], ['/v1/hris/groups'], 'only the groups were polled')

  // The lifecycle webhooks are accepted (not refused as malformed), each with its own integration field.
  const endUser = { organization_name: 'Acme GmbH', creator_email: null, origin_id: 'demo' }
  for (const delivery of [
    { id: 'wh_created', type: 'integration-created', data: { id: 'personio:new', tool: 'personio', category: 'HRIS', end_user: endUser } },
    { id: 'wh_deleted', type: 'integration-deleted', data: { id: 'personio:old', tool: 'personio', category: 'HRIS', end_user: endUser, deleted_at: clock.now().toISOString() } },
    { id: 'wh_state', type: 'integration-state-changed', data: { integration_id: 'demo', integration_tool: 'personio', integration_category: 'HRIS', end_user: endUser, qa_status: 'PASSED', setup_status: 'COMPLETED', state: 'INVALID', updated_at: clock.now().toISOString() } },
  ]) {
    const res = await postWebhook(service, delivery)
    t.equal(res.status, 202, `${delivery.type} is accepted`)
    t.same(res.body, { status: 'accepted' })
  }
})

t.test('GDPR erasure: views purged, event store unreadable, re-import blocked, audited', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock)
  const first = await startTestService(t, { simulator, clock })
  const service = first.service
  const api = apiClient(service)
  const company = simulator.integration('demo')
  await syncNow(service)

  // A manager, renamed to something unique so that scanning for it cannot hit anybody else.
  const employees = company.list("employees") as unknown as Array<{ id: string; manager_id: string | null; work_email: string | null }>
  const managerId = employees.find((e) => e.manager_id && employees.some((m) => m.id === e.manager_id))!.manager_id!
  const report = employees.find((e) => e.manager_id === managerId)!
  const oldEmail = employees.find((e) => e.id === managerId)!.work_email
  company.update('employees', managerId, { first_name: 'Zelda', last_name: 'Quixotic-Erasable', display_full_name: 'Zelda Quixotic-Erasable', work_email: 'zelda.quixotic@erasable.test' })
  await syncNow(service)
  const personal = ['Quixotic-Erasable', 'zelda.quixotic@erasable.test', ...(oldEmail ? [oldEmail] : [])]
  t.equal((await api.user(managerId)).displayName, 'Zelda Quixotic-Erasable', 'before: the user is there')
  t.equal((await api.user(report.id)).manager.displayName, 'Zelda Quixotic-Erasable', "before: the report's manager is named")
  t.equal((await api.get(`/users/${managerId}/history`)).status, 200)
  t.notMatch(await storedText(service), 'Quixotic', 'even before erasure the store holds only ciphertext for employees')

  const receipt = await erase(service, managerId, { reason: 'GDPR request ticket 4711', actor: 'dpo' })
  t.equal(receipt.status, 200, JSON.stringify(receipt.body))
  t.equal(receipt.body.alreadyErased, false)

  t.equal((await api.get(`/users/${managerId}`)).status, 404, 'the user is gone from the views')
  t.equal((await api.get(`/users/${managerId}/history`)).status, 404, 'history is unreadable')
  t.equal((await api.get(`/users/${managerId}?asOf=${encodeURIComponent(clock.now().toISOString())}`)).status, 404, 'as-of is unreadable')
  t.equal((await api.get(`/users/${managerId}?knownAt=${encodeURIComponent(clock.now().toISOString())}`)).status, 404, 'known-at is unreadable')
  t.same((await api.get(`/changes?userId=${managerId}`)).body.data, [], 'the change log keeps no entry of the erased employee')
  let changeLog = ''
  for (let cursor: string | null = null, first = true; first || cursor; first = false) {
    const page: { body: { data: unknown[]; next: string | null } } = await api.get(`/changes?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    changeLog += JSON.stringify(page.body.data)
    cursor = page.body.next
  }
  t.ok(changeLog.length > 2, 'the change log has the other employees')
  for (const p of personal) t.notMatch(changeLog, p, `no change-log entry shows ${p}`)
  t.equal((await api.user(report.id)).manager.displayName, null, "the report keeps the manager's id but not the name")
  const everything = JSON.stringify(await api.allUsers())
  for (const p of personal) t.notMatch(everything, p, `no user in the API shows ${p}`)
  const decrypted = JSON.stringify((await service.stores.eventStore.readAll()).map((e) => e.data))
  const stored = await storedText(service)
  for (const p of personal) {
    t.notMatch(stored, p, `the event store holds no ${p}`)
    t.notMatch(decrypted, p, `and nothing readable through it shows ${p}`)
  }

  // The HR system still has the employee and changes them: nothing comes back.
  const streamLength = (await service.stores.rawEventStore.readStream(employeeStreamName('demo', managerId))).length
  company.update('employees', managerId, { job_title: 'Chief Re-import Officer', last_name: 'Quixotic-Erasable' })
  await syncNow(service)
  t.equal((await api.get(`/users/${managerId}`)).status, 404, 'not re-imported after the next poll')
  t.equal((await service.stores.rawEventStore.readStream(employeeStreamName('demo', managerId))).length, streamLength, 'nothing appended to the erased stream')
  t.notMatch(await storedText(service), 'Re-import Officer', 'the new record is not in the store either')

  // Audited: who, when, why — and no personal data.
  const audit = await service.stores.eventStore.readStream(erasureStreamName('demo'))
  t.equal(audit.length, 1)
  t.match(audit[0], { type: 'EmployeePersonalDataErased', data: { tenant: 'demo', employeeId: managerId, reason: 'GDPR request ticket 4711', actor: 'dpo' } })
  for (const p of personal) t.notMatch(JSON.stringify([audit[0].data, audit[0].metadata]), p)

  const again = await erase(service, managerId, { reason: 'again', actor: 'dpo' })
  t.equal(again.status, 200, 'erasing again is harmless')
  t.equal(again.body.alreadyErased, true)
  t.equal((await service.stores.eventStore.readStream(erasureStreamName('demo'))).length, 1, 'and audited once')
  t.equal((await erase(service, 'no-such-employee', { reason: 'x' })).status, 404)

  // The CLI does the same on a stopped service's data directory.
  const other = employees.find((e) => e.id !== managerId && e.id !== report.id && e.work_email)!
  await service.stop()
  const config = loadConfig(
    { DATA_DIR: first.dataDir, DEMO_API_TOKEN: TOKEN, KOMBO_BASE_URL: simulator.url, KOMBO_API_KEY: 'e2e-kombo-key', LOG_LEVEL: 'silent' },
    'all',
    { demoToken: () => TOKEN },
  )
  t.equal(await runAdminCommand('erase', ['demo', other.id], config, createLogger('silent')), 2, 'the CLI insists on a reason')
  t.equal(await runAdminCommand('erase', ['demo', other.id, '--reason', 'ticket 4712', '--actor', 'cli-test'], config, createLogger('silent')), 0)
  // A rebuild from the event store brings neither erased employee back.
  t.equal(await runAdminCommand('rebuild', [], config, createLogger('silent')), 0)
  const second = await startTestService(t, { simulator, clock, env: { DATA_DIR: first.dataDir } })
  const api2 = apiClient(second.service)
  t.equal((await api2.get(`/users/${other.id}`)).status, 404, 'erased through the CLI')
  t.equal((await api2.get(`/users/${managerId}`)).status, 404, 'still erased after the rebuild')
  t.equal((await api2.get(`/users/${report.id}`)).status, 200, 'everybody else is rebuilt')
  t.notMatch(await storedText(second.service), other.work_email!, 'its email is nowhere in the store')
  const audit2 = await second.service.stores.eventStore.readStream(erasureStreamName('demo'))
  t.same(audit2.map((e) => [e.data.employeeId, e.data.actor]), [[managerId, 'dpo'], [other.id, 'cli-test']])
})
