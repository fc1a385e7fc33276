// Dates reached and the Learn Amp user's activation: record decisions and the clock agree.
import t from 'tap'
import { anEmployee, later } from '../../test/support/kombo-fixtures.ts'
import { EmployeeScenario, typesOf } from '../../test/support/employee-scenario.ts'

const JAN_15 = '2026-01-15T12:00:00.000Z'

t.test('a future leave date deactivates nobody until the last day is over, then once', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee(), JAN_15)
  const decided = s.record(anEmployee({ changed_at: later(1), termination_date: '2026-02-01' }), JAN_15)
  t.same(typesOf(decided), ['EmployeeLeaveDateChanged'], 'no deactivation yet')
  t.same(s.clock('2026-01-31T23:59:59.999Z'), [], 'the day before: nothing')
  t.same(s.clock('2026-02-01T00:00:00.000Z'), [], 'the termination date is the last working day: still active')
  t.same(s.clock('2026-02-01T23:59:59.999Z'), [], 'until its very end')

  const reached = s.clock('2026-02-02T00:00:00.000Z')
  t.same(typesOf(reached), ['EmployeeLeft', 'UserDeactivated'])
  t.match(reached[0].data, { on: '2026-02-01', changedAt: '2026-02-02T00:00:00.000Z' })
  t.match(reached[1].data, { reason: 'left', changedAt: '2026-02-02T00:00:00.000Z' })
  t.same(s.clock('2026-02-03T00:00:00.000Z'), [], 'the clock is idempotent')
  t.same(s.clock('2026-02-02T00:00:00.000Z'), [], 'also for the same instant')
})

t.test('a leave date already past when learned leaves and deactivates at once', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee(), JAN_15)
  const events = s.record(anEmployee({ changed_at: later(1), termination_date: '2026-01-12' }), JAN_15)
  t.same(typesOf(events), ['EmployeeLeaveDateChanged', 'EmployeeLeft', 'UserDeactivated'])
  t.same(s.clock(JAN_15), [])
})

t.test('a leave date moved later after it was reached: reactivated, then leaves on the new date', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee({ termination_date: '2026-01-12' }), JAN_15)
  t.equal(s.state?.userActive, false)
  const moved = s.record(anEmployee({ changed_at: later(1), termination_date: '2026-03-01' }), JAN_15)
  t.same(typesOf(moved), ['EmployeeLeaveDateChanged', 'UserReactivated'])
  t.match(moved[1].data, { reason: 'active' })
  t.equal(s.state?.left, null, 'the earlier leaving no longer stands')
  t.same(typesOf(s.clock('2026-03-02T00:00:00.000Z')), ['EmployeeLeft', 'UserDeactivated'])
  t.match(s.state?.left, { terminationDate: '2026-03-01' })
})

t.test('a leave date moved earlier, before it was reached, leaves on the earlier date', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee({ termination_date: '2026-03-01' }), JAN_15)
  s.record(anEmployee({ changed_at: later(1), termination_date: '2026-02-01' }), JAN_15)
  t.same(s.clock('2026-02-01T00:00:00.000Z'), [])
  t.same(typesOf(s.clock('2026-02-02T00:00:00.000Z')), ['EmployeeLeft', 'UserDeactivated'])
  t.same(s.clock('2026-03-02T00:00:00.000Z'), [], 'the old date no longer matters')
})

t.test('a cancelled termination reactivates, and the same date set again leaves again with new ids', async (t) => {
  const s = new EmployeeScenario()
  const first = s.record(anEmployee({ termination_date: '2026-01-12' }), JAN_15)
  const cancelled = s.record(anEmployee({ changed_at: later(1), termination_date: null }), JAN_15)
  t.same(typesOf(cancelled), ['EmployeeLeaveDateChanged', 'UserReactivated'])
  const again = s.record(anEmployee({ changed_at: later(2), termination_date: '2026-01-12' }), JAN_15)
  t.same(typesOf(again), ['EmployeeLeaveDateChanged', 'EmployeeLeft', 'UserDeactivated'])
  const firstLeft = first.find((e) => e.type === 'EmployeeLeft')
  const secondLeft = again.find((e) => e.type === 'EmployeeLeft')
  t.not(firstLeft?.id, secondLeft?.id, 'a new decision, a new id')
})

t.test('rehire: a new start date after leaving starts again on that date', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee({ start_date: '2025-01-01', termination_date: '2025-06-30' }), JAN_15)
  t.equal(s.state?.userActive, false)
  const rehired = s.record(anEmployee({ changed_at: later(1), start_date: '2026-02-01', termination_date: null }), JAN_15)
  t.same(typesOf(rehired), ['EmployeeStartDateChanged', 'EmployeeLeaveDateChanged'], 'still out until the new start')
  t.same(s.clock('2026-01-31T00:00:00.000Z'), [])
  const started = s.clock('2026-02-01T00:00:00.000Z')
  t.same(typesOf(started), ['EmployeeStarted', 'UserReactivated'])
  t.match(started[0].data, { on: '2026-02-01' })
  t.match(started[1].data, { reason: 'rehired' })
  t.equal(s.state?.left, null)
  t.same(s.clock('2026-02-02T00:00:00.000Z'), [])
})

t.test('rehire with the old termination date kept in the record', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee({ start_date: '2025-01-01', termination_date: '2025-06-30' }), JAN_15)
  s.record(anEmployee({ changed_at: later(1), start_date: '2026-02-01', termination_date: '2025-06-30' }), JAN_15)
  t.same(typesOf(s.clock('2026-02-01T00:00:00.000Z')), ['EmployeeStarted', 'UserReactivated'])
  t.same(typesOf(s.record(anEmployee({ changed_at: later(2), start_date: '2026-02-01', termination_date: '2026-05-01' }), '2026-05-02T00:00:00.000Z')), [
    'EmployeeLeaveDateChanged',
    'EmployeeLeft',
    'UserDeactivated',
  ], 'and the second employment ends on its own date')
})

t.test('a corrected start date for someone who already started does not start them again', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee({ start_date: '2026-01-02' }), JAN_15)
  t.same(typesOf(s.record(anEmployee({ changed_at: later(1), start_date: '2026-01-01' }), JAN_15)), ['EmployeeStartDateChanged'])
})

t.test('a future start date starts the employee when the clock reaches it', async (t) => {
  const s = new EmployeeScenario()
  t.same(typesOf(s.record(anEmployee({ start_date: '2026-03-01' }), JAN_15)), ['EmployeeImported'])
  t.same(typesOf(s.clock('2026-03-01T08:00:00.000Z')), ['EmployeeStarted'])
  t.match(s.state?.started, { startDate: '2026-03-01', reachedAt: '2026-03-01T00:00:00.000Z' })
})

t.test('inactive employment deactivates, active again reactivates', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee(), JAN_15)
  const inactive = s.record(anEmployee({ changed_at: later(1), employment_status: 'INACTIVE' }), JAN_15)
  t.same(typesOf(inactive), ['EmployeeEmploymentStatusChanged', 'UserDeactivated'])
  t.match(inactive[1].data, { reason: 'inactive' })
  const active = s.record(anEmployee({ changed_at: later(2), employment_status: 'ACTIVE' }), JAN_15)
  t.same(typesOf(active), ['EmployeeEmploymentStatusChanged', 'UserReactivated'])
  t.match(active[1].data, { reason: 'active' })
  t.same(typesOf(s.record(anEmployee({ changed_at: later(3), employment_status: 'LEAVE' }), JAN_15)), ['EmployeeEmploymentStatusChanged'], 'on leave stays active')
})

t.test('restored in the HR system but left meanwhile stays deactivated', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee({ remote_deleted_at: later(0), termination_date: '2026-01-12' }), JAN_15)
  const restored = s.record(anEmployee({ changed_at: later(1), remote_deleted_at: null, termination_date: '2026-01-12' }), JAN_15)
  t.same(typesOf(restored), ['EmployeeRestoredInSource'])
  t.equal(s.state?.userActive, false)
})

t.test('last day today in Europe/Berlin: deactivated at local midnight, not at 00:00 UTC of the last day', async (t) => {
  const s = new EmployeeScenario({ mode: 'manual' }, 'Europe/Berlin')
  s.record(anEmployee({ termination_date: '2026-12-01T00:00:00.000Z' }), '2026-11-30T12:00:00.000Z')
  t.same(s.clock('2026-12-01T00:00:00.000Z'), [], '01:00 local on the last day')
  t.same(s.clock('2026-12-01T22:59:59.000Z'), [], '23:59:59 local')
  const left = s.clock('2026-12-01T23:00:00.000Z')
  t.same(typesOf(left), ['EmployeeLeft', 'UserDeactivated'])
  t.match(left[1].data, { changedAt: '2026-12-01T23:00:00.000Z' }, 'the deactivation is stamped with the local midnight')
})

t.test('last day today in Pacific/Auckland: deactivated at 11:00 UTC (00:00 NZDT the next day)', async (t) => {
  const s = new EmployeeScenario({ mode: 'manual' }, 'Pacific/Auckland')
  s.record(anEmployee({ termination_date: '2026-12-01' }), '2026-11-30T12:00:00.000Z')
  t.same(s.clock('2026-12-01T10:59:59.000Z'), [])
  t.same(typesOf(s.clock('2026-12-01T11:00:00.000Z')), ['EmployeeLeft', 'UserDeactivated'])
})

t.test('a start date begins access at 00:00 local: Auckland starts before UTC does', async (t) => {
  const s = new EmployeeScenario({ mode: 'on_start_date', daysBefore: 0 }, 'Pacific/Auckland')
  s.record(anEmployee({ start_date: '2026-12-01T00:00:00.000Z' }), '2026-11-20T00:00:00.000Z')
  t.match(s.state?.invite, { status: 'scheduled', dueAt: '2026-11-30T11:00:00.000Z' })
  t.same(s.clock('2026-11-30T10:59:59.000Z'), [])
  const started = s.clock('2026-11-30T11:00:00.000Z')
  t.same(typesOf(started), ['EmployeeStarted', 'UserInvited'])
  t.match(started[0].data, { on: '2026-12-01T00:00:00.000Z', changedAt: '2026-11-30T11:00:00.000Z' })
})

t.test('a termination with a real time of day ends access at that instant', async (t) => {
  const s = new EmployeeScenario({ mode: 'manual' }, 'Europe/Berlin')
  s.record(anEmployee({ termination_date: '2026-12-01T15:30:00.000Z' }), '2026-11-30T12:00:00.000Z')
  t.same(s.clock('2026-12-01T15:29:59.000Z'), [])
  t.same(typesOf(s.clock('2026-12-01T15:30:00.000Z')), ['EmployeeLeft', 'UserDeactivated'])
})

t.test('daysBefore counts local days across the spring DST change (Europe/Berlin)', async (t) => {
  const s = new EmployeeScenario({ mode: 'on_start_date', daysBefore: 7 }, 'Europe/Berlin')
  s.record(anEmployee({ start_date: '2026-04-01' }), '2026-03-01T00:00:00.000Z')
  t.match(s.state?.invite, { status: 'scheduled', dueAt: '2026-03-24T23:00:00.000Z' }, '00:00 CET on 25 March, a week before 1 April (CEST)')
  t.same(s.clock('2026-03-24T22:59:59.000Z'), [])
  t.same(typesOf(s.clock('2026-03-24T23:00:00.000Z')), ['UserInvited'])
})
