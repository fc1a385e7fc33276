// kill -9 of the whole embedded service (`kombo-sync all` as a child process) at random points of
// the initial sync and of a stream of changes, restarts on the same data directory, and at the end
// compares a canonical dump (every event as stream#revision:type:id, every user from the API) with
// a reference service that ran uninterrupted against the same simulated company.
//
// Why the reference runs alongside and not afterwards: a service started after the changes would
// import each employee's final state in one event, while the interrupted one saw the changes as
// changes. The reference does its initial sync before the first change, and every scripted change
// touches a record that no other change touches, so any run that sees every change exactly once —
// however its polls fall — produces the same streams, revisions and event ids.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestSimulator, startTestService, syncNow, canonicalDump, TOKEN, type StoryClock } from '../support/e2e-story.ts'
import { startChildService, type ChildService } from '../support/child-service.ts'
import { waitFor, settle } from '../support/wait-for.ts'
import { recordTrial } from '../support/reliability-log.ts'

const EMPLOYEES = 150
const KILLS_DURING_CHANGES = Number(process.env.RELIABILITY_KILLS ?? 2)
// A seeded generator, so a failing run can be repeated with the same kill points.
const seed = Number(process.env.RELIABILITY_SEED ?? Date.now() % 100_000)
let state = seed
const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo))

const realClock: StoryClock = { now: () => new Date(), advance: () => {} }

async function visibleUsers(child: ChildService): Promise<any[] | null> {
  try {
    const users: any[] = []
    let cursor: string | null = null
    do {
      const res: Response = await fetch(`${child.url}/v1/tenants/demo/users?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      if (res.status !== 200) return null
      const body = (await res.json()) as { data: any[]; next: string | null }
      users.push(...body.data)
      cursor = body.next
    } while (cursor)
    return users
  } catch {
    return null
  }
}

t.test(`kill -9 during the initial sync and during changes loses and duplicates nothing (seed ${seed})`, async (t) => {
  const simulator = await startTestSimulator(t, realClock, EMPLOYEES)
  const company = simulator.integration('demo')

  // The reference: never interrupted, initial sync done before any change.
  const reference = await startTestService(t, { simulator, clock: realClock, env: { POLL_INTERVAL_MS: '300' } })
  await syncNow(reference.service)

  const dataDir = mkdtempSync(join(tmpdir(), 'kombo-sync-crash-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const env = {
    DATA_DIR: dataDir,
    PORT: '0',
    DEMO_API_TOKEN: TOKEN,
    KOMBO_BASE_URL: simulator.url,
    KOMBO_API_KEY: 'crash-test-kombo-key',
    KOMBO_INTEGRATION_ID: 'demo',
    POLL_INTERVAL_MS: '300',
    CLOCK_INTERVAL_MS: '600000',
    LOG_LEVEL: 'warn',
  }
  let child: ChildService | null = null
  t.teardown(() => child?.kill9())
  const kills: Array<{ phase: string; afterMs: number; usersVisible: number | null }> = []
  const killAfter = async (phase: string, ms: number) => {
    await settle(ms)
    const users = await visibleUsers(child!)
    await child!.kill9()
    kills.push({ phase, afterMs: ms, usersVisible: users?.length ?? null })
    t.comment(`SIGKILL (${phase}) ${ms} ms after start, ${users?.length ?? '?'} users visible`)
  }

  // 1. Killed during the initial sync.
  child = await startChildService(env)
  await killAfter('initial sync', between(0, 700))
  child = await startChildService(env)
  const total = () => company.list('employees', { includeDeleted: true }).length
  await waitFor('the restarted service to finish the initial sync', async () => (await visibleUsers(child!))?.length === total(), 90_000, 200)

  // 2. A stream of changes, each to a record no other change touches; killed while they flow.
  const untouched = company.list('employees').map((e) => e.id as string)
  let step = 0
  const changes = setInterval(() => {
    step += 1
    if (step % 7 === 3) company.hire({ first_name: 'Crash', last_name: `Hire ${step}`, work_email: `crash-${step}@example.test`, start_date: '2020-01-01T00:00:00.000Z' })
    else {
      const id = untouched.shift()
      if (!id) return
      if (step % 5 === 4) company.remove('employees', id)
      else company.update('employees', id, { job_title: `Crash-test title ${step}` })
    }
  }, 40)
  t.teardown(() => clearInterval(changes))
  for (let k = 0; k < KILLS_DURING_CHANGES; k++) {
    await killAfter('changes flowing', between(300, 2000))
    await settle(between(100, 600)) // changes keep coming while the service is down
    child = await startChildService(env)
  }
  await settle(between(300, 1000))
  clearInterval(changes)
  t.ok(step > 20, `${step} scripted changes were made while the service was killed and restarted`)

  // 3. Let the restarted child catch up by itself, then stop it gracefully.
  const expected = new Map(company.list('employees', { includeDeleted: true }).map((e) => [e.id as string, e]))
  await waitFor(
    'the restarted service to reflect every change',
    async () => {
      const users = await visibleUsers(child!)
      return users !== null && users.length === expected.size && users.every((u) => u.jobTitle === (expected.get(u.externalId)?.job_title ?? null))
    },
    90_000,
    200,
  )
  t.equal(await child.stop(), 0, 'the last run stops gracefully')
  const childOutput = child.output()
  child = null
  t.notMatch(childOutput, /database.*(corrupt|invalid page|could not read)/i, 'no database corruption reported by the last run')

  // 4. Reopen the crashed run's data directory in-process and compare with the reference.
  await syncNow(reference.service)
  const expectedDump = await canonicalDump(reference.service)
  const recovered = await startTestService(t, { simulator, clock: realClock, env: { DATA_DIR: dataDir } })
  await syncNow(recovered.service)
  const actual = await canonicalDump(recovered.service)

  const missing = expectedDump.events.filter((e) => !actual.events.includes(e))
  const extra = actual.events.filter((e) => !expectedDump.events.includes(e))
  t.same(missing, [], 'no event of the uninterrupted run is missing (no lost change)')
  t.same(extra, [], 'no event the uninterrupted run does not have (no duplicate)')
  t.equal(new Set(actual.events.map((e) => e.split(':').pop())).size, actual.events.length, 'every event id appears once')
  t.same(actual.events, expectedDump.events, 'identical streams, revisions and event ids')
  t.same(actual.users, expectedDump.users, 'identical users through the API')
  t.ok(kills.length === KILLS_DURING_CHANGES + 1, `${kills.length} kills`)

  recordTrial({
    fault: 'kill -9 of `kombo-sync all` during the initial sync',
    area: 'process crash',
    mode: 'embedded',
    times: 1,
    outcome: `restarted on the same data directory; caught up (users visible at the kill: ${kills[0].usersVisible ?? 'API not up'} of ${EMPLOYEES})`,
    lost: 'nothing (events and users equal an uninterrupted run)',
    test: 'test/reliability/crash-consistency.test.ts',
    passed: t.passing(),
  })
  recordTrial({
    fault: 'kill -9 of `kombo-sync all` while changes flow (changes continue while it is down)',
    area: 'process crash',
    mode: 'embedded',
    times: KILLS_DURING_CHANGES,
    outcome: `restarted on the same data directory; ${step} changes (title changes, hires, deletions) all arrived once`,
    lost: 'nothing (events and users equal an uninterrupted run)',
    test: 'test/reliability/crash-consistency.test.ts',
    passed: t.passing(),
  })
})
