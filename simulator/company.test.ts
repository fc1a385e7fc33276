import t from 'tap'
import { KomboEmployee } from '../schemas/kombo.ts'
import { SimulatedCompany, SimulatedRecordNotFoundError } from './company.ts'
import { seedFor } from './rng.ts'

const NOW = new Date('2025-06-15T12:00:00.000Z')
const shape = { employees: 60, teams: 8, locations: 3 }
const company = (integrationId = 'acme', now = () => NOW) => new SimulatedCompany(seedFor(1, integrationId), shape, now)

t.test('the same seed and integration give the same company; another integration a different one', async (t) => {
  t.same(company().list('employees'), company().list('employees'))
  t.notSame(company('acme').list('employees').map((e) => e.work_email), company('globex').list('employees').map((e) => e.work_email))
})

t.test('a realistic company: a manager tree, pending starters, leavers', async (t) => {
  const employees = company().list('employees')
  t.equal(employees.length, 60)
  const ids = new Set(employees.map((e) => e.id))
  const roots = employees.filter((e) => e.manager_id === null)
  t.equal(roots.length, 1, 'one person at the top')
  t.ok(employees.every((e) => e.manager_id === null || ids.has(String(e.manager_id))), 'managers exist')
  for (const e of employees) {
    const seen = new Set<string>()
    let cursor: string | null = e.id
    while (cursor !== null) {
      t.notOk(seen.has(cursor), 'no management cycle')
      if (seen.has(cursor)) break
      seen.add(cursor)
      cursor = (employees.find((x) => x.id === cursor)?.manager_id as string | null) ?? null
    }
  }
  const pending = employees.filter((e) => e.employment_status === 'PENDING')
  t.ok(pending.length > 0 && pending.every((e) => Date.parse(String(e.start_date)) > NOW.getTime()), 'PENDING start in the future')
  const inactive = employees.filter((e) => e.employment_status === 'INACTIVE')
  t.ok(inactive.length > 0 && inactive.every((e) => Date.parse(String(e.termination_date)) < NOW.getTime()), 'INACTIVE left in the past')
  t.ok(employees.every((e) => KomboEmployee.safeParse(e).success), 'every employee parses')
})

t.test('every mutation gets a strictly later changed_at even when the clock stands still', async (t) => {
  const c = company()
  const [a, b] = c.list('employees')
  const first = c.update('employees', a!.id, { job_title: 'CTO' })
  const second = c.update('employees', b!.id, { job_title: 'CFO' })
  t.ok(Date.parse(second.changed_at) > Date.parse(first.changed_at))
  t.ok(Date.parse(first.changed_at) >= NOW.getTime())
  t.match(first.changed_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  t.equal(c.list('employees').at(-1)!.id, b!.id, 'the last changed record sorts last')
})

t.test('hire, terminate, rehire, remove, restore', async (t) => {
  const c = company()
  const hired = c.hire({ first_name: 'Ada', last_name: 'Lovelace', start_date: '2025-07-01' })
  t.equal(hired.employment_status, 'PENDING')
  t.equal(hired.start_date, '2025-07-01T00:00:00.000Z')
  t.equal(hired.display_full_name, 'Ada Lovelace')
  t.ok(c.get('employees', String(hired.manager_id)), 'the new hire has a manager')
  t.equal(c.setTermination(hired.id, '2025-09-30').employment_status, 'PENDING', 'a future leaving date does not change status')
  const left = c.setTermination(hired.id, '2025-06-01')
  t.equal(left.employment_status, 'INACTIVE')
  const back = c.rehire(hired.id, '2025-06-10')
  t.equal(back.employment_status, 'ACTIVE')
  t.equal(back.termination_date, null)
  const removed = c.remove('employees', hired.id)
  t.equal(removed.remote_deleted_at, removed.changed_at)
  t.notOk(c.list('employees').some((e) => e.id === hired.id), 'hidden by default')
  t.ok(c.list('employees', { includeDeleted: true }).some((e) => e.id === hired.id))
  t.equal(c.restore('employees', hired.id).remote_deleted_at, null)
  t.throws(() => c.update('employees', 'nope', {}), SimulatedRecordNotFoundError)
})

t.test('renaming a team changes every member, since Kombo tracks expanded relations', async (t) => {
  const c = company()
  const team = c.list('groups').find((g) => g.type === 'TEAM' && c.list('employees').some((e) => (e.groups as { id: string }[]).some((m) => m.id === g.id)))!
  const renamed = c.update('groups', team.id, { name: 'Renamed Team' })
  const members = c.list('employees').filter((e) => (e.groups as { id: string }[]).some((m) => m.id === team.id))
  t.ok(members.length > 0)
  for (const m of members) {
    t.equal((m.groups as { id: string; name: string }[]).find((g) => g.id === team.id)!.name, 'Renamed Team')
    t.ok(m.changed_at > renamed.changed_at)
  }
})

t.test('moveToTeam embeds the team and its department', async (t) => {
  const c = company()
  const team = c.list('groups').find((g) => g.type === 'TEAM')!
  const moved = c.moveToTeam(c.list('employees')[3]!.id, [team.id])
  t.same((moved.groups as { id: string }[]).map((g) => g.id), [team.id, team.parent_id])
  t.throws(() => c.moveToTeam(moved.id, ['unknown-group']), RangeError)
})

t.test('randomChange is seeded and always names a record that exists', async (t) => {
  const a = company()
  const b = company()
  const changesA = Array.from({ length: 40 }, () => a.randomChange())
  const changesB = Array.from({ length: 40 }, () => b.randomChange())
  t.same(changesA, changesB)
  t.ok(new Set(changesA.map((c) => c.kind)).size >= 4, 'several kinds of change')
  for (const change of changesA) t.ok(a.get(change.resource, change.id), change.kind)
})
