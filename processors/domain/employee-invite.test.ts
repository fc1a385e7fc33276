// Invites: the tenant's policy decides when; nobody deactivated or deleted is invited automatically.
import t from 'tap'
import { anEmployee, later } from '../../test/support/kombo-fixtures.ts'
import { EmployeeScenario, typesOf, tenant } from '../../test/support/employee-scenario.ts'
import { decideManualInvite, InviteNotAllowedError } from './index.ts'
import { InvitePolicy } from '../../schemas/invite-policy.ts'

const JAN_15 = '2026-01-15T12:00:00.000Z'
const invites = (events: { type: string }[]) => typesOf(events).filter((t) => t.startsWith('UserInvite'))

t.test('the invite policy schema defaults daysBefore and rejects negatives', async (t) => {
  t.same(InvitePolicy.parse({ mode: 'on_start_date' }), { mode: 'on_start_date', daysBefore: 0 })
  t.throws(() => InvitePolicy.parse({ mode: 'on_start_date', daysBefore: -1 }))
  t.throws(() => InvitePolicy.parse({ mode: 'sometimes' }))
})

t.test('manual policy never invites by itself', async (t) => {
  const s = new EmployeeScenario({ mode: 'manual' })
  t.same(invites(s.record(anEmployee({ start_date: '2026-02-01' }), JAN_15)), [])
  t.same(invites(s.clock('2026-03-01T00:00:00.000Z')), [])
  t.equal(s.state?.invite.status, 'none')
})

t.test('immediate policy invites at first sight, once', async (t) => {
  const s = new EmployeeScenario({ mode: 'immediate' })
  const events = s.record(anEmployee({ start_date: '2026-02-01' }), JAN_15)
  t.same(typesOf(events), ['EmployeeImported', 'UserInvited'], 'a pending employee is invited too')
  t.match(events[1].data, { by: 'policy', actor: null })
  t.equal(s.state?.invite.status, 'invited')
  t.same(invites(s.record(anEmployee({ start_date: '2026-02-01', changed_at: later(1), job_title: 'Lead' }), JAN_15)), [])
  t.same(invites(s.clock('2026-02-01T00:00:00.000Z')), [])
})

t.test('immediate policy waits for a work email instead of guessing one', async (t) => {
  const s = new EmployeeScenario({ mode: 'immediate' })
  t.same(invites(s.record(anEmployee({ work_email: null }), JAN_15)), [])
  t.same(invites(s.record(anEmployee({ changed_at: later(1), work_email: 'ada@example.com' }), JAN_15)), ['UserInvited'])
})

t.test('immediate policy does not invite someone who already left', async (t) => {
  const s = new EmployeeScenario({ mode: 'immediate' })
  t.same(typesOf(s.record(anEmployee({ termination_date: '2026-01-10' }), JAN_15)), ['EmployeeImported', 'EmployeeStarted', 'EmployeeLeft', 'UserDeactivated'])
  t.equal(s.state?.invite.status, 'none')
})

t.test('on_start_date schedules the invite, and the clock sends it on the day', async (t) => {
  const s = new EmployeeScenario({ mode: 'on_start_date', daysBefore: 0 })
  const events = s.record(anEmployee({ start_date: '2026-02-01' }), JAN_15)
  t.same(typesOf(events), ['EmployeeImported', 'UserInviteScheduled'])
  t.match(events[1].data, { dueAt: '2026-02-01T00:00:00.000Z', policy: 'on_start_date' })
  t.same(s.clock('2026-01-31T12:00:00.000Z'), [])
  const due = s.clock('2026-02-01T00:00:00.000Z')
  t.same(typesOf(due), ['EmployeeStarted', 'UserInvited'])
  t.match(due[1].data, { by: 'policy', changedAt: '2026-02-01T00:00:00.000Z' })
  t.same(s.state?.invite, { status: 'invited', dueAt: '2026-02-01T00:00:00.000Z', invitedAt: '2026-02-01T00:00:00.000Z' })
  t.same(s.clock('2026-02-02T00:00:00.000Z'), [])
})

t.test('on_start_date with daysBefore invites that many days ahead', async (t) => {
  const s = new EmployeeScenario({ mode: 'on_start_date', daysBefore: 7 })
  const events = s.record(anEmployee({ start_date: '2026-02-01' }), JAN_15)
  t.match(events[1].data, { dueAt: '2026-01-25T00:00:00.000Z' })
  t.same(s.clock('2026-01-24T23:00:00.000Z'), [])
  t.same(typesOf(s.clock('2026-01-25T00:00:00.000Z')), ['UserInvited'])
})

t.test('on_start_date invites at once when the start date is already past', async (t) => {
  const s = new EmployeeScenario({ mode: 'on_start_date', daysBefore: 0 })
  t.same(typesOf(s.record(anEmployee({ start_date: '2026-01-01' }), JAN_15)), ['EmployeeImported', 'EmployeeStarted', 'UserInvited'])
})

t.test('a start date moved later before the invite moves the schedule', async (t) => {
  const s = new EmployeeScenario({ mode: 'on_start_date', daysBefore: 0 })
  s.record(anEmployee({ start_date: '2026-02-01' }), JAN_15)
  const moved = s.record(anEmployee({ changed_at: later(1), start_date: '2026-03-01' }), JAN_15)
  t.same(typesOf(moved), ['EmployeeStartDateChanged', 'UserInviteScheduled'])
  t.match(moved[1].data, { dueAt: '2026-03-01T00:00:00.000Z' })
  t.same(s.clock('2026-02-01T00:00:00.000Z'), [], 'the old date sends nothing')
  t.same(typesOf(s.clock('2026-03-01T00:00:00.000Z')), ['EmployeeStarted', 'UserInvited'])
})

t.test('a scheduled invite is not sent to someone deleted meanwhile', async (t) => {
  const s = new EmployeeScenario({ mode: 'on_start_date', daysBefore: 0 })
  s.record(anEmployee({ start_date: '2026-02-01' }), JAN_15)
  s.record(anEmployee({ changed_at: later(1), start_date: '2026-02-01', remote_deleted_at: later(1) }), JAN_15)
  t.same(invites(s.clock('2026-02-01T00:00:00.000Z')), [])
  t.equal(s.state?.invite.status, 'scheduled')
})

t.test('manual invite', async (t) => {
  const ctx = { tenant, now: new Date(JAN_15), timeZone: 'UTC', commandId: 'cmd-1', actor: 'admin@acme' }

  t.test('invites an active employee, the same command always with the same id', async (t) => {
    const s = new EmployeeScenario()
    s.record(anEmployee(), JAN_15)
    const events = decideManualInvite(s.state, ctx)
    t.same(typesOf(events), ['UserInvited'])
    t.match(events[0].data, { by: 'manual', actor: 'admin@acme', changedAt: JAN_15 })
    t.equal(decideManualInvite(s.state, ctx)[0].id, events[0].id)
    t.not(decideManualInvite(s.state, { ...ctx, commandId: 'cmd-2' })[0].id, events[0].id)
    s.append(events)
    t.equal(s.state?.invite.status, 'invited')
  })

  const refusals: Array<[string, (s: EmployeeScenario) => void, string]> = [
    ['already invited', (s) => { s.record(anEmployee(), JAN_15); s.append(decideManualInvite(s.state, ctx)) }, 'already_invited'],
    ['left', (s) => s.record(anEmployee({ termination_date: '2026-01-10' }), JAN_15), 'deactivated'],
    ['inactive', (s) => s.record(anEmployee({ employment_status: 'INACTIVE' }), JAN_15), 'deactivated'],
    ['deleted in source', (s) => s.record(anEmployee({ remote_deleted_at: later(0) }), JAN_15), 'deleted_in_source'],
    ['without a work email', (s) => s.record(anEmployee({ work_email: null }), JAN_15), 'missing_work_email'],
  ]
  for (const [name, given, reason] of refusals) {
    t.test(`refuses an employee ${name}`, async (t) => {
      const s = new EmployeeScenario()
      given(s)
      t.throws(() => decideManualInvite(s.state, ctx), { name: 'InviteNotAllowedError', reason, retriable: false, tenant, employeeId: 'emp-1' })
    })
  }

  t.test('refuses an unknown employee', async (t) => {
    const err = t.throws(() => decideManualInvite(null, { ...ctx, employeeId: 'emp-404' }))
    t.ok(err instanceof InviteNotAllowedError)
    t.match(err, { reason: 'unknown_employee', employeeId: 'emp-404' })
  })
})
