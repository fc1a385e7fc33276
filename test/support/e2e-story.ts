// The end-to-end story, shared by the embedded and the production-mode tests: a scripted life of
// one employee (hire, title change, team move, future termination reached by the clock, deletion,
// rehire), checked through the read API at each step.
import type { Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../config/config.ts'
import { createLogger, type Logger } from '../../runtime/logger.ts'
import { startService, PROCESSOR_GROUP, type RunningService } from '../../runtime/service.ts'
import { projectedStreamPrefixes } from '../../projections/projector.ts'
import { startKomboSimulator, type KomboSimulator } from '../../simulator/index.ts'
import { waitFor } from './wait-for.ts'

export const TOKEN = 'e2e-demo-token-0123456789'
const DAY = 24 * 60 * 60 * 1000

export interface StoryClock {
  now: () => Date
  advance(ms: number): void
}

export function controllableClock(start = new Date('2026-03-01T09:00:00.000Z')): StoryClock {
  let offset = 0
  // Real time moves on as well, so changed_at and recorded_at stay in order with the store.
  const base = Date.now()
  return {
    now: () => new Date(start.getTime() + (Date.now() - base) + offset),
    advance: (ms) => (offset += ms),
  }
}

/** A Kombo simulator that outlives service restarts, as Kombo does. */
export async function startTestSimulator(t: Test, clock: StoryClock, employees = 25): Promise<KomboSimulator> {
  const simulator = await startKomboSimulator({ port: 0, employees, seed: 7, now: clock.now, logger: false })
  t.teardown(() => simulator.close())
  return simulator
}

export async function startTestService(
  t: Test,
  options: { simulator: KomboSimulator; clock: StoryClock; env?: Record<string, string>; logger?: Logger },
): Promise<{ service: RunningService; dataDir: string }> {
  const env = options.env ?? {}
  const dataDir = env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'kombo-sync-e2e-'))
  if (!env.DATA_DIR) t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const config = loadConfig(
    {
      DATA_DIR: dataDir,
      PORT: '0',
      DEMO_API_TOKEN: TOKEN,
      KOMBO_BASE_URL: options.simulator.url,
      KOMBO_API_KEY: 'e2e-kombo-key',
      KOMBO_INTEGRATION_ID: 'demo',
      POLL_INTERVAL_MS: '600000',
      CLOCK_INTERVAL_MS: '600000',
      LOG_LEVEL: 'silent',
      ...env,
    },
    'all',
    { demoToken: () => randomBytes(12).toString('hex') },
  )
  const service = await startService(config, { logger: options.logger ?? createLogger('silent'), now: options.clock.now })
  t.teardown(() => service.stop())
  return { service, dataDir }
}

export function apiClient(service: RunningService, tenant = 'demo', token = TOKEN) {
  const call = async (method: string, path: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${service.url}/v1/tenants/${tenant}${path}`, { method, headers: { authorization: `Bearer ${token}` } })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }
  return {
    get: (path: string) => call('GET', path),
    post: (path: string) => call('POST', path),
    async user(id: string) {
      const r = await call('GET', `/users/${id}`)
      return r.status === 200 ? r.body : null
    },
    async allUsers(): Promise<any[]> {
      const users: any[] = []
      let cursor: string | null = null
      do {
        const r: { status: number; body: any } = await call('GET', `/users?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
        users.push(...r.body.data)
        cursor = r.body.next
      } while (cursor)
      return users
    },
  }
}

/** Polls now and waits until the views reflect the event store up to its last position. */
export async function syncNow(service: RunningService, tenant = 'demo'): Promise<void> {
  await service.pollers.get(tenant)!.pollNow()
  await caughtUp(service)
}

export async function caughtUp(service: RunningService): Promise<void> {
  // Settled when the processor committed every record the poller published, and the projector
  // reached the event store's last position — and that stays so for a few rounds.
  let lastSeen = -1n
  let stableRounds = 0
  let progress = ''
  await waitFor('pipeline to settle', async () => {
    const pending = await service.stores.changeLog.pending(PROCESSOR_GROUP)
    const all = await service.stores.eventStore.readAll({ after: lastSeen < 0n ? undefined : lastSeen, maxCount: 10_000, streamPrefixes: projectedStreamPrefixes })
    if (all.length) lastSeen = all[all.length - 1].position
    const checkpoint = await service.stores.views.checkpoint('learnamp-views')
    const projected = lastSeen < 0n || (checkpoint !== null && checkpoint >= lastSeen)
    stableRounds = projected && all.length === 0 && pending === 0 ? stableRounds + 1 : 0
    progress = `${pending} change records pending, store at ${lastSeen}, views at ${checkpoint}`
    return stableRounds >= 5
  }, 90_000, 40).catch((err: Error) => {
    throw new Error(`${err.message} (${progress})`)
  })
}

export async function runEmployeeStory(t: Test, service: RunningService, simulator: KomboSimulator, clock: StoryClock): Promise<void> {
  const api = apiClient(service)
  const company = simulator.integration('demo')
  await syncNow(service)
  const startedAt = clock.now()

  const everyone = company.list('employees', { includeDeleted: true })
  const users = await api.allUsers()
  t.equal(users.length, everyone.length, 'initial sync: every employee of the simulator is a user')
  t.same(new Set(users.map((u) => u.externalId)), new Set(everyone.map((e) => e.id)), 'with the same ids')

  // Hire someone starting in ten days.
  const startDate = new Date(clock.now().getTime() + 10 * DAY).toISOString().slice(0, 10) + 'T00:00:00.000Z'
  const teams = company.list('groups')
  const hired = company.hire({ first_name: 'Ada', last_name: 'Lovelace', job_title: 'Engineer', work_email: 'ada@example.test', start_date: startDate }) as { id: string }
  await syncNow(service)
  let ada = await api.user(hired.id)
  t.ok(ada, 'hire: the new employee appears')
  t.equal(ada.displayName, 'Ada Lovelace')
  t.equal(ada.status, 'pending', 'hire: pending until the start date')

  // Title change.
  company.update('employees', hired.id, { job_title: 'Principal Engineer' })
  await syncNow(service)
  ada = await api.user(hired.id)
  t.equal(ada.jobTitle, 'Principal Engineer', 'title change reaches the view')

  // Team move.
  const team = teams.find((g) => !(ada.teams ?? []).some((x: { externalId: string }) => x.externalId === g.id)) as { id: string }
  company.moveToTeam(hired.id, [team.id])
  await syncNow(service)
  ada = await api.user(hired.id)
  t.ok(ada.teams.some((x: { externalId: string }) => x.externalId === team.id), 'team move: the user is in the new team')
  const teamView = await api.get(`/teams/${team.id}`)
  t.equal(teamView.status, 200)
  t.ok(teamView.body.members.some((m: { externalId: string }) => m.externalId === hired.id), 'team move: the team lists the user')

  // The start date is reached: the clock makes the user active.
  clock.advance(11 * DAY)
  await service.tickClock()
  await caughtUp(service)
  ada = await api.user(hired.id)
  t.equal(ada.status, 'active', 'start date reached: active')
  const beforeTermination = clock.now()

  // A termination date in the future deactivates nobody until it is reached.
  const leaveDate = new Date(clock.now().getTime() + 5 * DAY).toISOString().slice(0, 10) + 'T00:00:00.000Z'
  company.setTermination(hired.id, leaveDate)
  await syncNow(service)
  ada = await api.user(hired.id)
  t.equal(ada.status, 'active', 'future leave date: still active')
  t.equal(ada.leaveDate?.slice(0, 10), leaveDate.slice(0, 10), 'the leave date is shown')
  clock.advance(6 * DAY)
  await service.tickClock()
  await caughtUp(service)
  ada = await api.user(hired.id)
  t.equal(ada.status, 'deactivated', 'leave date reached: deactivated by the clock')

  // As of before the termination, the user was active.
  const asOf = await api.get(`/users/${hired.id}?asOf=${encodeURIComponent(beforeTermination.toISOString())}`)
  t.equal(asOf.status, 200)
  t.equal(asOf.body.data.status, 'active', 'as-of (HR time) before the leave date: active')
  t.equal(asOf.body.data.jobTitle, 'Principal Engineer')
  t.equal(asOf.body.asOf, beforeTermination.toISOString(), 'the response names the HR instant it used')
  const knownThen = await api.get(`/users/${hired.id}?knownAt=${encodeURIComponent(beforeTermination.toISOString())}`)
  t.same([knownThen.status, knownThen.body.data.status, knownThen.body.data.leaveDate], [200, 'active', null], 'known-at before the leave date was entered: active, no leave date')
  const knownBeforeHire = await api.get(`/users/${hired.id}?knownAt=${encodeURIComponent(startedAt.toISOString())}`)
  t.equal(knownBeforeHire.status, 404, 'known-at before the service had the record: 404')

  // Rehire.
  const rehireDate = new Date(clock.now().getTime() - DAY).toISOString().slice(0, 10) + 'T00:00:00.000Z'
  company.rehire(hired.id, rehireDate)
  await syncNow(service)
  await service.tickClock()
  await caughtUp(service)
  ada = await api.user(hired.id)
  t.equal(ada.status, 'active', 'rehire: active again')

  // Deletion in the HR system.
  company.remove('employees', hired.id)
  await syncNow(service)
  ada = await api.user(hired.id)
  t.equal(ada.status, 'active', 'deleted in source: still active until the clock applies the deactivation (mass-deactivation guard)')
  // One deletion of 25 users is below the tenant's threshold: the next clock tick applies it.
  await service.tickClock()
  await caughtUp(service)
  ada = await api.user(hired.id)
  t.equal(ada.status, 'deactivated', 'deleted in source: deactivated')

  const history = await api.get(`/users/${hired.id}/history`)
  t.equal(history.status, 200)
  const types = history.body.data.map((e: { type: string }) => e.type)
  for (const expected of [
    'EmployeeImported',
    'EmployeeJobTitleChanged',
    'EmployeeTeamsChanged',
    'EmployeeStarted',
    'EmployeeLeaveDateChanged',
    'EmployeeLeft',
    'UserDeactivated',
    'UserReactivated',
    'EmployeeDeletedInSource',
  ]) {
    t.ok(types.includes(expected), `history has ${expected}`)
  }
  t.equal(new Set(history.body.data.map((e: { revision: string }) => e.revision)).size, types.length, 'no revision twice')
  const readable = history.body.changes.map((c: { type: string }) => c.type)
  for (const expected of ['UserCreated', 'UserUpdated', 'UserActivated', 'UserDeactivated', 'UserReactivated', 'UserDeleted']) {
    t.ok(readable.includes(expected), `the history's readable changes have ${expected}`)
  }
  const log = await api.get(`/changes?userId=${hired.id}&limit=200`)
  t.same(log.body.data.map((c: { eventId: string }) => c.eventId).sort(), history.body.changes.map((c: { eventId: string }) => c.eventId).sort(), 'the change log has the same entries as the history')
  const titles = await api.get(`/changes?userId=${hired.id}&field=jobTitle&type=UserUpdated`)
  t.same(titles.body.data.map((c: { changes: unknown[] }) => c.changes), [[{ field: 'jobTitle', before: 'Engineer', after: 'Principal Engineer' }]], 'the title change, before → after')

  // Nothing new in Kombo: polling again appends nothing.
  const before = (await service.stores.eventStore.readAll({ maxCount: 100_000 })).length
  await syncNow(service)
  const after = (await service.stores.eventStore.readAll({ maxCount: 100_000 })).length
  t.equal(after, before, 'an unchanged company appends no events')
}

/** A canonical dump of what a run produced: every stream's event types and ids, and every view. */
export async function canonicalDump(service: RunningService): Promise<{ events: string[]; users: any[] }> {
  const events = (await service.stores.eventStore.readAll({ maxCount: 1_000_000 }))
    .map((e) => `${e.streamName}#${e.revision}:${e.type}:${e.id}`)
    .sort()
  const users = (await apiClient(service).allUsers()).sort((a, b) => a.externalId.localeCompare(b.externalId))
  return { events, users }
}
