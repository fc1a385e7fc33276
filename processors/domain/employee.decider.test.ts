// The employee decider as given / when / then over events: its three commands (a record arrives,
// time passes, a manual invite) on a stream that already holds these events.
import t from 'tap'
import type { EmployeeEvent } from '../../schemas/events.ts'
import type { InvitePolicy } from '../../schemas/invite-policy.ts'
import { DeciderSpecification } from '../../test/support/decider-specification.ts'
import { anEmployee, later } from '../../test/support/kombo-fixtures.ts'
import { employeeDecider } from './employee.ts'

const tenant = 'acme'
const ada = anEmployee({ id: 'ada' })
const base = (changedAt: string) => ({ tenant, entityId: 'ada', changedAt })
const context = (now: string, invitePolicy: InvitePolicy = { mode: 'manual' }) => ({ tenant, now: new Date(now), invitePolicy, timeZone: 'UTC' })

const imported = (record = ada): EmployeeEvent => ({ type: 'EmployeeImported', data: { ...base(record.changed_at), snapshot: { ...record } } })
const started: EmployeeEvent = { type: 'EmployeeStarted', data: { ...base('2026-01-01T00:00:00.000Z'), on: '2026-01-01' } }

t.test('a record arrives', async (t) => {
  const given = DeciderSpecification.for(employeeDecider, t)

  t.test('on first sight: imported, and its start date, already reached, recorded', async () => {
    given([]).when({ type: 'ObserveRecord', record: ada, context: context('2026-02-01T00:00:00Z') }).then([
      { type: 'EmployeeImported', data: { ...base(ada.changed_at), snapshot: { ...ada } } },
      { type: 'EmployeeStarted', data: { ...base('2026-01-01T00:00:00.000Z'), on: '2026-01-01' } },
    ])
  })

  t.test('a changed job title: one event carrying exactly its field', async () => {
    const record = { ...ada, changed_at: later(5), job_title: 'CTO' }
    given([imported(), started]).when({ type: 'ObserveRecord', record, context: context('2026-02-01T00:00:00Z') }).then([
      { type: 'EmployeeJobTitleChanged', data: { ...base(later(5)), job_title: 'CTO' } },
    ])
  })

  t.test('a rename: one event with every name field of the field → event table', async () => {
    const record = { ...ada, changed_at: later(5), last_name: 'King', display_full_name: 'Ada King' }
    given([imported(), started]).when({ type: 'ObserveRecord', record, context: context('2026-02-01T00:00:00Z') }).then([
      { type: 'EmployeeNameChanged', data: { ...base(later(5)), first_name: 'Ada', last_name: 'King', display_full_name: 'Ada King' } },
    ])
  })

  t.test('an older or identical record adds nothing', async () => {
    given([imported(), started]).when({ type: 'ObserveRecord', record: { ...ada, changed_at: later(-5), job_title: 'Intern' }, context: context('2026-02-01T00:00:00Z') }).thenNothingHappened()
    given([imported(), started]).when({ type: 'ObserveRecord', record: ada, context: context('2026-02-01T00:00:00Z') }).thenNothingHappened()
  })

  t.test('a deletion in the HR system deactivates the user', async () => {
    const record = { ...ada, changed_at: later(5), remote_deleted_at: later(5) }
    given([imported(), started]).when({ type: 'ObserveRecord', record, context: context('2026-02-01T00:00:00Z') }).thenMatches([
      { type: 'EmployeeDeletedInSource', data: { remote_deleted_at: later(5) } },
      { type: 'UserDeactivated', data: { reason: 'deleted_in_source' } },
    ])
  })
})

t.test('time passes', async (t) => {
  const given = DeciderSpecification.for(employeeDecider, t)
  const leaving = imported({ ...ada, termination_date: '2026-03-31' })

  t.test('before the leaving date: nothing is due', async () => {
    given([leaving, started]).when({ type: 'ReachDates', context: context('2026-03-01T00:00:00Z') }).thenNothingHappened()
  })

  // The termination date is the last day of employment: the user is deactivated at 00:00 of the
  // next day in the tenant's time zone (UTC here).
  t.test('the day after the last day reached: left, and the user deactivated as of that instant', async () => {
    given([leaving, started]).when({ type: 'ReachDates', context: context('2026-04-02T00:00:00Z') }).then([
      { type: 'EmployeeLeft', data: { ...base('2026-04-01T00:00:00.000Z'), on: '2026-03-31' } },
      { type: 'UserDeactivated', data: { ...base('2026-04-01T00:00:00.000Z'), reason: 'left' } },
    ])
  })

  t.test('decided once: with those events in the stream, nothing more', async () => {
    const left: EmployeeEvent = { type: 'EmployeeLeft', data: { ...base('2026-04-01T00:00:00.000Z'), on: '2026-03-31' } }
    const deactivated: EmployeeEvent = { type: 'UserDeactivated', data: { ...base('2026-04-01T00:00:00.000Z'), reason: 'left' } }
    given([leaving, started, left, deactivated]).when({ type: 'ReachDates', context: context('2026-04-03T00:00:00Z') }).thenNothingHappened()
  })

  t.test('an invite due under the on-start-date policy', async () => {
    const joining = imported({ ...ada, start_date: '2026-03-01' })
    const policy: InvitePolicy = { mode: 'on_start_date', daysBefore: 7 }
    given([joining]).when({ type: 'ReachDates', context: context('2026-02-23T00:00:00Z', policy) }).thenMatches([
      { type: 'UserInvited', data: { by: 'policy', actor: null, changedAt: '2026-02-22T00:00:00.000Z' } },
    ])
  })
})

t.test('a manual invite', async (t) => {
  const given = DeciderSpecification.for(employeeDecider, t)
  const invite = (now = '2026-02-01T12:00:00.000Z') => ({ type: 'InviteManually' as const, context: { tenant, employeeId: 'ada', now: new Date(now), commandId: 'cmd-1', actor: 'hr@acme.test', timeZone: 'UTC' } })

  t.test('of an active employee: invited now, by that person', async () => {
    given([imported(), started]).when(invite()).then([
      { type: 'UserInvited', data: { ...base('2026-02-01T12:00:00.000Z'), by: 'manual', actor: 'hr@acme.test' } },
    ])
  })

  t.test('refused for someone unknown, already invited, or without a work email', async () => {
    given([]).when(invite()).thenThrows({ name: 'InviteNotAllowedError', reason: 'unknown_employee' })
    const invited: EmployeeEvent = { type: 'UserInvited', data: { ...base('2026-01-15T00:00:00.000Z'), by: 'policy', actor: null } }
    given([imported(), started, invited]).when(invite()).thenThrows({ name: 'InviteNotAllowedError', reason: 'already_invited' })
    given([imported({ ...ada, work_email: null }), started]).when(invite()).thenThrows({ name: 'InviteNotAllowedError', reason: 'missing_work_email' })
  })
})
