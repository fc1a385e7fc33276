import t from 'tap'
import { minimiseRecord, minimisingClient } from './minimise-record.ts'
import { dataScopes, keptFields } from '../schemas/data-scopes.ts'
import { komboRecordSchemas, komboResources } from '../schemas/kombo.ts'
import { anEmployee } from '../test/support/kombo-fixtures.ts'
import { sensitiveEmployeeFields, tracesIn } from '../test/support/sensitive-fields.ts'

const fullEmployee = () =>
  anEmployee({
    ...structuredClone(sensitiveEmployeeFields),
    avatar: 'https://avatars.example/ada.png',
    nationality: 'British',
    remote_created_at: '2020-01-01T00:00:00.000Z',
    groups: [{ id: 'grp-1', name: 'Platform', type: 'TEAM', remote_id: 'G-1', member_since: 'GROUP-EXTRA-TRACE' }],
    manager: { id: 'emp-0', first_name: 'Manager', work_email: 'boss@example.com' },
    work_location: { id: 'loc-1', name: 'Berlin' },
    legal_entity: { id: 'le-1', name: 'Acme GmbH' },
  })

t.test('an employee keeps exactly the fields of the scope table; every sensitive field is gone', async (t) => {
  const out = minimiseRecord('employees', fullEmployee()) as Record<string, unknown>
  t.same(Object.keys(out).sort(), [...keptFields('employees', undefined).keys()].filter((f) => f in fullEmployee()).sort())
  t.same(tracesIn(JSON.stringify(out)), [], 'no sensitive value or key left')
  t.same(out.groups, [{ id: 'grp-1', name: 'Platform', type: 'TEAM' }], 'groups keep id, name and type only')
  for (const dropped of ['manager', 'work_location', 'legal_entity', 'employments', 'home_address']) t.notOk(dropped in out, `${dropped} is dropped`)
  t.equal(out.work_email, 'ada@example.com', 'what the directory needs stays')
  t.equal(out.custom_fields && (out.custom_fields as Record<string, unknown>).shirt, 'M', 'optional scopes are on by default')
  t.ok(komboRecordSchemas.employees.safeParse(out).success, 'the minimised record is still a valid employee')
})

t.test('a tenant can switch optional scopes off', async (t) => {
  const none = minimiseRecord('employees', fullEmployee(), []) as Record<string, unknown>
  for (const field of ['custom_fields', 'avatar', 'nationality', 'employment_type', 'legal_entity_id']) t.notOk(field in none, `${field} is dropped`)
  t.equal(none.first_name, 'Ada', 'core fields stay')
  const some = minimiseRecord('employees', fullEmployee(), ['avatar', 'nationality']) as Record<string, unknown>
  t.same(['custom_fields', 'avatar', 'nationality', 'employment_type', 'legal_entity_id'].filter((f) => f in some), ['avatar', 'nationality'], 'only the optional fields the tenant keeps')
})

t.test('absences lose the free-text note and the expanded type; other resources keep their table', async (t) => {
  const absence = {
    id: 'abs-1', remote_id: 'A-1', changed_at: '2026-01-10T09:00:00.000Z', remote_deleted_at: null, employee_id: 'emp-1', type_id: 'type-1',
    start_date: '2026-02-01', end_date: '2026-02-03', status: 'APPROVED', employee_note: 'NOTE-TRACE: doctor appointment',
    type: { id: 'type-1', name: 'Sick leave' }, remote_created_at: '2026-01-10T09:00:00.000Z', remote_updated_at: '2026-01-10T09:00:00.000Z',
  }
  const out = minimiseRecord('absences', absence) as Record<string, unknown>
  t.notOk('employee_note' in out)
  t.notOk('type' in out)
  t.equal(out.type_id, 'type-1')
  t.equal(out.remote_updated_at, absence.remote_updated_at)
  const location = minimiseRecord('work-locations', { id: 'loc-1', changed_at: absence.changed_at, name: 'Berlin', address: { city: 'Berlin' }, phone: 'LOC-TRACE' })
  t.same(location, { id: 'loc-1', changed_at: absence.changed_at, name: 'Berlin', address: { city: 'Berlin' } })
})

t.test('what is not a record is passed on without anything personal (the poller dead-letters it)', async (t) => {
  t.equal(minimiseRecord('employees', null), null)
  t.equal(minimiseRecord('employees', 'x'), 'x')
  t.equal(minimiseRecord('employees', [{ ssn: 'SSN-TRACE' }]), null, 'a list in place of a record')
  t.same(minimiseRecord('employees', { ssn: 'SSN-TRACE', first_name: 'no id' }), { first_name: 'no id' }, 'a record without an id is minimised too')
})

t.test('every field of the scope table is one the Kombo schema declares (no typo keeps nothing)', async (t) => {
  for (const resource of komboResources) {
    const shape = (komboRecordSchemas[resource] as unknown as { shape: Record<string, unknown> }).shape
    const unknown = Object.keys(dataScopes[resource].fields).filter((f) => !(f in shape))
    t.same(unknown, [], resource)
  }
})

t.test('the minimising client cuts every record of every page and leaves the page otherwise alone', async (t) => {
  const calls: unknown[][] = []
  const client = minimisingClient(
    {
      listPage: async (...args) => {
        calls.push(args)
        return { results: [fullEmployee(), fullEmployee()], next: 'cursor-2' }
      },
    },
    ['avatar'],
  )
  const page = await client.listPage('integration-1', 'employees', { pageSize: 2 })
  t.same(calls, [['integration-1', 'employees', { pageSize: 2 }]], 'the request is passed through')
  t.equal(page.next, 'cursor-2')
  t.equal(page.results.length, 2)
  t.same(tracesIn(JSON.stringify(page.results)), [])
  t.notOk(JSON.stringify(page.results).includes('custom_fields'), "the tenant's switched-off scope is dropped")
})
