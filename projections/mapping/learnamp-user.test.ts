// The Learn Amp user an employee maps to, per DESIGN.md's field mapping.
import t from 'tap'
import { LearnAmpLocation, LearnAmpTeam, LearnAmpUser } from '../../schemas/learnamp.ts'
import { anEmployee, aGroup, later } from '../../test/support/kombo-fixtures.ts'
import { EmployeeScenario } from '../../test/support/employee-scenario.ts'
import { decideEntityEvents, foldEntity, type EmployeeState } from '../../processors/domain/index.ts'
import type { KomboEmployee } from '../../schemas/kombo.ts'
import { findDuplicateEmails, toLearnAmpLocation, toLearnAmpTeam, toLearnAmpUser, type LearnAmpUserLookups, type ResolvedRef } from './index.ts'

const JAN_15 = new Date('2026-01-15T12:00:00.000Z')

function employee(record: KomboEmployee, now = JAN_15, policy?: ConstructorParameters<typeof EmployeeScenario>[0]): EmployeeState {
  const s = new EmployeeScenario(policy)
  s.record(record, now.toISOString())
  return s.state!
}

function lookups(over: { teams?: ResolvedRef[]; locations?: ResolvedRef[]; employees?: EmployeeState[] } = {}): LearnAmpUserLookups {
  const teams = over.teams ?? [{ id: 'grp-1', name: 'Platform', deleted: false }]
  const locations = over.locations ?? [{ id: 'loc-1', name: 'Berlin', deleted: false }]
  const employees = over.employees ?? []
  return {
    team: (id) => teams.find((x) => x.id === id),
    location: (id) => locations.find((x) => x.id === id),
    employee: (id) => employees.find((x) => x.employeeId === id),
  }
}

t.test('maps every field of the mapping table', async (t) => {
  const manager = employee(anEmployee({ id: 'emp-9', display_full_name: null, first_name: 'Grace', last_name: 'Hopper' }))
  const state = employee(anEmployee({ manager_id: 'emp-9', avatar: 'https://img/a.png', termination_date: '2026-12-31' }))
  const user = toLearnAmpUser(state, lookups({ employees: [manager] }), JAN_15, 'UTC')
  LearnAmpUser.parse(user)
  t.match(user, {
    externalId: 'emp-1',
    remoteId: 'P-1',
    employeeNumber: '1001',
    firstName: 'Ada',
    lastName: 'Lovelace',
    displayName: 'Ada Lovelace',
    jobTitle: 'Engineer',
    email: 'ada@example.com',
    hireDate: '2026-01-01',
    leaveDate: '2026-12-31',
    manager: { externalId: 'emp-9', displayName: 'Grace Hopper' },
    primaryTeam: { externalId: 'grp-1', name: 'Platform', type: 'TEAM' },
    primaryLocation: { externalId: 'loc-1', name: 'Berlin' },
    avatar: 'https://img/a.png',
    legalEntityId: 'le-1',
    employmentType: 'FULL_TIME',
    status: 'active',
    deactivationReason: null,
    invite: { status: 'none', dueAt: null, invitedAt: null },
  })
  t.same(user.issues, [])
})

t.test('display name falls back to first and last name', async (t) => {
  const user = toLearnAmpUser(employee(anEmployee({ display_full_name: null, first_name: 'Ada', last_name: null })), lookups(), JAN_15, 'UTC')
  t.equal(user.displayName, 'Ada')
})

t.test('a manager that is unknown or deleted is reported, not invented', async (t) => {
  const deletedManager = employee(anEmployee({ id: 'emp-8', remote_deleted_at: later(0) }))
  for (const [name, id] of [['unknown', 'emp-404'], ['deleted', 'emp-8']]) {
    const user = toLearnAmpUser(employee(anEmployee({ manager_id: id })), lookups({ employees: [deletedManager] }), JAN_15, 'UTC')
    t.equal(user.manager, null, name)
    t.same(user.issues, ['manager_not_found'], name)
  }
})

t.test('an employee in several groups: primary prefers TEAM, then DEPARTMENT; all are listed', async (t) => {
  const groups = [
    { id: 'cc', name: 'Cost', type: 'COST_CENTER' as const },
    { id: 'dep', name: 'Engineering', type: 'DEPARTMENT' as const },
    { id: 'team', name: 'Platform', type: 'TEAM' as const },
  ]
  const user = toLearnAmpUser(employee(anEmployee({ groups })), lookups({ teams: [] }), JAN_15, 'UTC')
  t.same(user.teams.map((x) => x.externalId), ['cc', 'dep', 'team'])
  t.equal(user.primaryTeam?.externalId, 'team')
  const noTeam = toLearnAmpUser(employee(anEmployee({ groups: groups.slice(0, 2) })), lookups({ teams: [] }), JAN_15, 'UTC')
  t.equal(noTeam.primaryTeam?.externalId, 'dep')
  const costOnly = toLearnAmpUser(employee(anEmployee({ groups: groups.slice(0, 1) })), lookups({ teams: [] }), JAN_15, 'UTC')
  t.equal(costOnly.primaryTeam?.externalId, 'cc')
  const none = toLearnAmpUser(employee(anEmployee({ groups: null })), lookups(), JAN_15, 'UTC')
  t.equal(none.primaryTeam, null)
  t.same(none.teams, [])
})

t.test('the team view names the team; a deleted team is dropped and reported', async (t) => {
  const state = employee(anEmployee({ groups: [{ id: 'grp-1', name: 'Old', type: 'TEAM' }, { id: 'grp-2', name: 'Gone', type: 'TEAM' }] }))
  const user = toLearnAmpUser(state, lookups({ teams: [{ id: 'grp-1', name: 'Renamed', deleted: false }, { id: 'grp-2', name: 'Gone', deleted: true }] }), JAN_15, 'UTC')
  t.same(user.teams, [{ externalId: 'grp-1', name: 'Renamed', type: 'TEAM' }])
  t.same(user.issues, ['team_not_found'])
})

t.test('a location that is unknown or deleted is reported', async (t) => {
  const unknown = toLearnAmpUser(employee(anEmployee({ work_location_id: 'loc-404' })), lookups(), JAN_15, 'UTC')
  t.equal(unknown.primaryLocation, null)
  t.same(unknown.issues, ['location_not_found'])
  const deleted = toLearnAmpUser(employee(anEmployee()), lookups({ locations: [{ id: 'loc-1', name: 'Berlin', deleted: true }] }), JAN_15, 'UTC')
  t.same(deleted.issues, ['location_not_found'])
})

t.test('a missing work email is reported', async (t) => {
  const user = toLearnAmpUser(employee(anEmployee({ work_email: '  ' })), lookups(), JAN_15, 'UTC')
  t.equal(user.email, null)
  t.same(user.issues, ['missing_work_email'])
})

t.test('status as of a date: pending before the start, active, deactivated after leaving', async (t) => {
  const state = employee(anEmployee({ start_date: '2026-02-01', termination_date: '2026-06-30' }))
  t.equal(toLearnAmpUser(state, lookups(), JAN_15, 'UTC').status, 'pending')
  t.equal(toLearnAmpUser(state, lookups(), new Date('2026-03-01T00:00:00Z'), 'UTC').status, 'active')
  const after = toLearnAmpUser(state, lookups(), new Date('2026-07-01T00:00:00Z'), 'UTC')
  t.equal(after.status, 'deactivated')
  t.equal(after.deactivationReason, 'left')
  t.match(toLearnAmpUser(employee(anEmployee({ employment_status: 'INACTIVE' })), lookups(), JAN_15, 'UTC'), { status: 'deactivated', deactivationReason: 'inactive' })
  t.match(toLearnAmpUser(employee(anEmployee({ remote_deleted_at: later(0) })), lookups(), JAN_15, 'UTC'), { status: 'deactivated', deactivationReason: 'deleted_in_source' })
})

t.test('the invite state is carried over', async (t) => {
  const state = employee(anEmployee({ start_date: '2026-02-01' }), JAN_15, { mode: 'on_start_date', daysBefore: 3 })
  t.same(toLearnAmpUser(state, lookups(), JAN_15, 'UTC').invite, { status: 'scheduled', dueAt: '2026-01-29T00:00:00.000Z', invitedAt: null })
})

t.test('users sharing an email, whatever its case, are all marked', async (t) => {
  const users = [
    toLearnAmpUser(employee(anEmployee({ id: 'a', work_email: 'Same@Example.com' })), lookups(), JAN_15, 'UTC'),
    toLearnAmpUser(employee(anEmployee({ id: 'b', work_email: 'same@example.com' })), lookups(), JAN_15, 'UTC'),
    toLearnAmpUser(employee(anEmployee({ id: 'c', work_email: 'other@example.com' })), lookups(), JAN_15, 'UTC'),
    toLearnAmpUser(employee(anEmployee({ id: 'd', work_email: null })), lookups(), JAN_15, 'UTC'),
    toLearnAmpUser(employee(anEmployee({ id: 'e', work_email: null })), lookups(), JAN_15, 'UTC'),
  ]
  const marked = findDuplicateEmails(users)
  t.same(marked.map((u) => u.issues.includes('duplicate_work_email')), [true, true, false, false, false])
  t.same(findDuplicateEmails(marked), marked, 'marking twice changes nothing')
  t.same(users[0].issues, [], 'the input is not mutated')
  const fixed = findDuplicateEmails([{ ...marked[0], email: 'fixed@example.com' }, marked[1]])
  t.same(fixed.map((u) => u.issues.includes('duplicate_work_email')), [false, false], 'the flag is cleared once no longer shared')
})

t.test('teams and locations', async (t) => {
  const team = foldEntity(decideEntityEvents('Team', null, aGroup({ parent_id: 'grp-0' }), { tenant: 'acme' }))!
  t.same(LearnAmpTeam.parse(toLearnAmpTeam(team)), { externalId: 'grp-1', remoteId: 'G-1', name: 'Platform', type: 'TEAM', parentId: 'grp-0', deleted: false })
  const location = foldEntity(
    decideEntityEvents('Location', null, { id: 'loc-1', changed_at: later(0), name: 'Berlin', type: 'OFFICE', address: { city: 'Berlin', country: 'DE' } }, { tenant: 'acme' }),
  )!
  const mapped = LearnAmpLocation.parse(toLearnAmpLocation(location))
  t.match(mapped, { externalId: 'loc-1', name: 'Berlin', type: 'OFFICE', address: { city: 'Berlin', country: 'DE', street1: null }, deleted: false })
})
