// The views projection as given / when / then over events: what a later batch of events changes in
// documents that depend on other entities (a manager's name, a shared email address).
import t from 'tap'
import type { EmployeeEvent } from '../schemas/events.ts'
import { employeeStreamName } from '../schemas/streams.ts'
import type { SqlViewStore } from './viewstore/sql.ts'
import { projectionSpecification, type StreamEvent } from '../test/support/projection-specification.ts'
import { anEmployee, later } from '../test/support/kombo-fixtures.ts'

const tenant = 'acme'
const stream = (id: string) => employeeStreamName(tenant, id)
const imported = (id: string, fields: Record<string, unknown>): StreamEvent => [
  stream(id),
  { type: 'EmployeeImported', data: { tenant, entityId: id, changedAt: later(0), snapshot: { ...anEmployee({ id, ...fields }) } } } satisfies EmployeeEvent,
]
const emailChanged = (id: string, work_email: string, minutes: number): StreamEvent => [
  stream(id),
  { type: 'EmployeeWorkEmailChanged', data: { tenant, entityId: id, changedAt: later(minutes), work_email } } satisfies EmployeeEvent,
]
const duplicateFlags = async (views: SqlViewStore, ids: string[]) =>
  Promise.all(ids.map(async (id) => (await views.getUser(tenant, id))?.issues.includes('duplicate_work_email') ?? null))

const team = [
  imported('ada', { first_name: 'Ada', last_name: 'Lovelace', display_full_name: 'Ada Lovelace', work_email: 'ada@acme.test' }),
  imported('bob', { first_name: 'Bob', display_full_name: 'Bob Byte', work_email: 'bob@acme.test', manager_id: 'ada' }),
  imported('cyd', { first_name: 'Cyd', display_full_name: 'Cyd Cole', work_email: 'cyd@acme.test', manager_id: 'ada' }),
]
const adaRenamed: StreamEvent = [
  stream('ada'),
  { type: 'EmployeeNameChanged', data: { tenant, entityId: 'ada', changedAt: later(5), first_name: 'Ada', last_name: 'King', display_full_name: 'Ada King' } } satisfies EmployeeEvent,
]

t.test('a renamed manager', async (t) => {
  t.test('given the team, the reports show the manager as imported', async (t) => {
    const spec = await projectionSpecification(t)
    await spec.given(team).when().then(async (views) => {
      t.equal((await views.getUser(tenant, 'bob'))?.manager?.displayName, 'Ada Lovelace')
    })
  })
  t.test('when she is renamed (a later batch), every report shows the new name', async (t) => {
    const spec = await projectionSpecification(t)
    await spec.given(team).when([adaRenamed]).then(async (views) => {
      t.equal((await views.getUser(tenant, 'ada'))?.displayName, 'Ada King')
      t.equal((await views.getUser(tenant, 'bob'))?.manager?.displayName, 'Ada King', "Bob's manager")
      t.equal((await views.getUser(tenant, 'cyd'))?.manager?.displayName, 'Ada King', "Cyd's manager")
    })
  })
})

t.test('a duplicate work email', async (t) => {
  t.test('given two addresses, nobody is flagged', async (t) => {
    const spec = await projectionSpecification(t)
    await spec.given(team).when().then(async (views) => {
      t.same(await duplicateFlags(views, ['ada', 'bob', 'cyd']), [false, false, false])
    })
  })
  t.test('when Bob takes Ada\'s address (another case), both are flagged, Ada without an event of her own', async (t) => {
    const spec = await projectionSpecification(t)
    await spec.given(team).when([emailChanged('bob', 'ADA@acme.test', 5)]).then(async (views) => {
      t.same(await duplicateFlags(views, ['ada', 'bob', 'cyd']), [true, true, false])
    })
  })
  t.test('when Bob has his own address again, both flags are cleared', async (t) => {
    const spec = await projectionSpecification(t)
    await spec.given(team, [emailChanged('bob', 'ADA@acme.test', 5)]).when([emailChanged('bob', 'bob@acme.test', 10)]).then(async (views) => {
      t.same(await duplicateFlags(views, ['ada', 'bob', 'cyd']), [false, false, false])
    })
  })
})
