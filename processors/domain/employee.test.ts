// Employee facts: what a Kombo record adds to the stream.
import t from 'tap'
import { anEmployee, later } from '../../test/support/kombo-fixtures.ts'
import { EmployeeScenario, ctxAt, typesOf } from '../../test/support/employee-scenario.ts'
import { decideEmployeeEvents } from './index.ts'

const NOW = '2026-01-15T12:00:00.000Z'

t.test('first sight imports the full snapshot, unknown fields included', async (t) => {
  const s = new EmployeeScenario()
  const record = anEmployee({ favourite_colour: 'teal' })
  const events = s.record(record, NOW)
  t.same(typesOf(events), ['EmployeeImported', 'EmployeeStarted'], 'imported, and the past start date is reached')
  const imported = events[0]
  t.equal(imported.type, 'EmployeeImported')
  if (imported.type === 'EmployeeImported') {
    t.same(imported.data.snapshot, record)
    t.match(imported.data, { tenant: 'acme', entityId: 'emp-1', changedAt: record.changed_at })
  }
  t.equal(s.state?.record.favourite_colour, 'teal')
  t.equal(s.state?.changedAt, record.changed_at)
})

t.test('an identical record decides nothing, whatever the key or group order', async (t) => {
  const s = new EmployeeScenario()
  const record = anEmployee({ groups: [{ id: 'g1', name: 'A', type: 'TEAM' }, { id: 'g2', name: 'B', type: 'DEPARTMENT' }] })
  s.record(record, NOW)
  t.same(decideEmployeeEvents(s.state, record, ctxAt(NOW)), [], 'same record again')
  const reordered = Object.fromEntries(Object.entries(record).reverse()) as typeof record
  reordered.groups = [...(record.groups ?? [])].reverse()
  reordered.changed_at = later(5)
  t.same(decideEmployeeEvents(s.state, reordered, ctxAt(NOW)), [], 'reordered keys and groups, newer changed_at')
  t.same(decideEmployeeEvents(s.state, { ...record, avatar: undefined, changed_at: later(6) }, ctxAt(NOW)), [], 'null and missing mean the same')
})

t.test('an older record arriving after a newer one decides nothing', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee({ changed_at: later(10), job_title: 'Lead' }), NOW)
  const older = anEmployee({ changed_at: later(5), job_title: 'Engineer' })
  t.same(decideEmployeeEvents(s.state, older, ctxAt(NOW)), [])
  t.equal(s.state?.record.job_title, 'Lead')
})

const fieldChanges: Array<[string, Record<string, unknown>, string, Record<string, unknown>]> = [
  ['first name', { first_name: 'Augusta' }, 'EmployeeNameChanged', { first_name: 'Augusta', last_name: 'Lovelace', display_full_name: 'Ada Lovelace' }],
  ['display name', { display_full_name: 'A. Lovelace' }, 'EmployeeNameChanged', { display_full_name: 'A. Lovelace' }],
  ['job title', { job_title: 'Lead' }, 'EmployeeJobTitleChanged', { job_title: 'Lead' }],
  ['work email', { work_email: 'ada@new.example' }, 'EmployeeWorkEmailChanged', { work_email: 'ada@new.example' }],
  ['manager', { manager_id: 'emp-9' }, 'EmployeeManagerChanged', { manager_id: 'emp-9' }],
  ['teams', { groups: [{ id: 'grp-2', name: 'Data', type: 'TEAM' }] }, 'EmployeeTeamsChanged', { groups: [{ id: 'grp-2', name: 'Data', type: 'TEAM' }] }],
  ['work location', { work_location_id: 'loc-2' }, 'EmployeeWorkLocationChanged', { work_location_id: 'loc-2' }],
  ['legal entity', { legal_entity_id: 'le-2' }, 'EmployeeLegalEntityChanged', { legal_entity_id: 'le-2' }],
  ['start date', { start_date: '2025-12-01' }, 'EmployeeStartDateChanged', { start_date: '2025-12-01' }],
  ['leave date', { termination_date: '2026-06-30' }, 'EmployeeLeaveDateChanged', { termination_date: '2026-06-30' }],
  ['employment status', { employment_status: 'LEAVE' }, 'EmployeeEmploymentStatusChanged', { employment_status: 'LEAVE' }],
  ['avatar', { avatar: 'https://img.example/ada.png' }, 'EmployeeAvatarChanged', { avatar: 'https://img.example/ada.png' }],
  ['employee number', { employee_number: '2002' }, 'EmployeeDetailsChanged', { changes: { employee_number: '2002' } }],
  ['custom fields', { custom_fields: { shirt: 'L' } }, 'EmployeeDetailsChanged', { changes: { custom_fields: { shirt: 'L' } } }],
  ['unknown field added', { favourite_colour: 'teal' }, 'EmployeeDetailsChanged', { changes: { favourite_colour: 'teal' } }],
]

for (const [name, edit, type, data] of fieldChanges) {
  t.test(`a changed ${name} becomes ${type}`, async (t) => {
    const s = new EmployeeScenario()
    s.record(anEmployee(), NOW)
    const events = s.record(anEmployee({ ...edit, changed_at: later(1) }), NOW)
    t.same(typesOf(events), [type])
    t.match(events[0].data, { ...data, tenant: 'acme', entityId: 'emp-1', changedAt: later(1) })
    t.equal(s.state?.changedAt, later(1))
  })
}

t.test('a field set to null or left out is reported as null', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee({ favourite_colour: 'teal' }), NOW)
  const nulled = s.record(anEmployee({ job_title: null, changed_at: later(1), favourite_colour: 'teal' }), NOW)
  t.same(typesOf(nulled), ['EmployeeJobTitleChanged'])
  t.match(nulled[0].data, { job_title: null })

  const { custom_fields: _gone, ...withoutCustomFields } = anEmployee({ job_title: null, changed_at: later(2) })
  const removed = s.record(withoutCustomFields, NOW)
  t.same(typesOf(removed), ['EmployeeDetailsChanged'])
  t.same((removed[0].data as { changes: unknown }).changes, { custom_fields: null, favourite_colour: null }, 'custom fields and the unknown field disappeared')
  t.equal(s.state?.record.favourite_colour, null)
})

t.test('several changes in one record give one event each, in a stable order', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee(), NOW)
  const events = s.record(anEmployee({ changed_at: later(1), last_name: 'King', job_title: 'CTO', nationality: 'GB' }), NOW)
  t.same(typesOf(events), ['EmployeeNameChanged', 'EmployeeJobTitleChanged', 'EmployeeDetailsChanged'])
})

t.test('a different group attribute other than id, name or type is not a team change', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee(), NOW)
  const events = s.record(anEmployee({ changed_at: later(1), groups: [{ id: 'grp-1', name: 'Platform', type: 'TEAM', remote_id: 'R' }] }), NOW)
  t.same(events, [])
})

t.test('deleted in the HR system, then restored', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee(), NOW)
  const deleted = s.record(anEmployee({ changed_at: later(1), remote_deleted_at: later(1) }), NOW)
  t.same(typesOf(deleted), ['EmployeeDeletedInSource', 'UserDeactivated'])
  t.match(deleted[1].data, { reason: 'deleted_in_source' })
  t.equal(s.state?.deleted, true)
  t.equal(s.state?.userActive, false)

  const restored = s.record(anEmployee({ changed_at: later(2), remote_deleted_at: null }), NOW)
  t.same(typesOf(restored), ['EmployeeRestoredInSource', 'UserReactivated'])
  t.match(restored[1].data, { reason: 'restored_in_source' })
  t.equal(s.state?.deleted, false)
  t.equal(s.state?.userActive, true)
})

t.test('an employee first seen already deleted is imported and deactivated', async (t) => {
  const s = new EmployeeScenario({ mode: 'immediate' })
  const events = s.record(anEmployee({ remote_deleted_at: later(0) }), NOW)
  t.same(typesOf(events), ['EmployeeImported', 'EmployeeStarted', 'UserDeactivated'], 'and never invited')
})
