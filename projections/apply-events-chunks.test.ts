// A batch whose change touches many users (a renamed manager here, as a renamed team or location
// would) recomputes them in chunks of `usersPerRecompute`, each chunk's states read on their own:
// what one batch holds in memory does not grow with the company. The documents are as if every
// user had been recomputed at once, duplicate-email flags across chunks included.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { EmployeeEvent } from '../schemas/events.ts'
import { employeeStreamName } from '../schemas/streams.ts'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlViewStore, type ViewTransaction } from './viewstore/sql.ts'
import { applyEvents } from './apply-events.ts'
import type { RecordedEvent } from '../processors/eventstore/port.ts'
import { anEmployee, later } from '../test/support/kombo-fixtures.ts'

const tenant = 'acme'
const reports = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']
let position = 0n
const recorded = (id: string, revision: bigint, event: EmployeeEvent): RecordedEvent => ({
  id: randomUUID(), type: event.type, data: event.data, streamName: employeeStreamName(tenant, id), revision, position: ++position,
  metadata: { decidedAt: later(Number(position)) }, recordedAt: new Date(later(Number(position))),
})
const imported = (id: string, fields: Record<string, unknown>) =>
  recorded(id, 0n, { type: 'EmployeeImported', data: { tenant, entityId: id, changedAt: later(0), snapshot: { ...anEmployee({ id, ...fields }) } } })

t.test('a renamed manager of 7 reports, recomputed 2 users at a time', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const views = await openSqlViewStore(db)
  await views.transaction((tx) =>
    applyEvents(tx, [
      imported('ada', { first_name: 'Ada', last_name: 'Lovelace', display_full_name: 'Ada Lovelace', work_email: 'ada@acme.test' }),
      // r1 and r7 share an address: they land in different chunks.
      ...reports.map((id) => imported(id, { display_full_name: id, work_email: id === 'r7' ? 'r1@acme.test' : `${id}@acme.test`, manager_id: 'ada' })),
    ]),
  )
  const employeesAsked: number[] = []
  const renamed = recorded('ada', 1n, { type: 'EmployeeNameChanged', data: { tenant, entityId: 'ada', changedAt: later(5), first_name: 'Ada', last_name: 'King', display_full_name: 'Ada King' } })
  await views.transaction((tx) => {
    const counting: ViewTransaction = Object.assign(Object.create(tx) as ViewTransaction, {
      loadStates: (tn: string, category: Parameters<ViewTransaction['loadStates']>[1], ids: string[]) => {
        if (category === 'employee') employeesAsked.push(ids.length)
        return tx.loadStates(tn, category, ids)
      },
    })
    return applyEvents(counting, [renamed], undefined, [], 2)
  })
  t.ok(Math.max(...employeesAsked) <= 2, `at most 2 employee states read at once (${employeesAsked.join(', ')})`)
  for (const id of reports) t.equal((await views.getUser(tenant, id))?.manager?.displayName, 'Ada King', `${id}'s manager`)
  const flagged = await Promise.all(reports.map(async (id) => (await views.getUser(tenant, id))?.issues.includes('duplicate_work_email')))
  t.same(flagged, [true, false, false, false, false, false, true], 'r1 and r7 flagged, though recomputed in different chunks')
})

t.test("a manager's change that her reports do not show (a job title) rewrites her alone; a rename rewrites them too", async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const views = await openSqlViewStore(db)
  position = 0n
  await views.transaction((tx) =>
    applyEvents(tx, [
      imported('ada', { first_name: 'Ada', last_name: 'Lovelace', display_full_name: 'Ada Lovelace', work_email: 'ada@acme.test' }),
      ...reports.map((id) => imported(id, { display_full_name: id, work_email: `${id}@acme.test`, manager_id: 'ada' })),
    ]),
  )
  const written = async (events: RecordedEvent[]) => {
    const users: string[] = []
    await views.transaction((tx) => {
      const counting: ViewTransaction = Object.assign(Object.create(tx) as ViewTransaction, {
        upsertUsers: (tn: string, rows: Parameters<ViewTransaction['upsertUsers']>[1]) => {
          users.push(...rows.map((r) => r.user.externalId))
          return tx.upsertUsers(tn, rows)
        },
      })
      return applyEvents(counting, events)
    })
    return users.sort()
  }
  const retitled = recorded('ada', 1n, { type: 'EmployeeJobTitleChanged', data: { tenant, entityId: 'ada', changedAt: later(5), job_title: 'Countess' } })
  t.same(await written([retitled]), ['ada'], 'a new job title: only her own user')
  t.equal((await views.getUser(tenant, 'ada'))?.jobTitle, 'Countess')
  for (const id of reports) t.same((await views.getUser(tenant, id))?.manager, { externalId: 'ada', displayName: 'Ada Lovelace' }, `${id}'s manager as before`)
  const renamed = recorded('ada', 2n, { type: 'EmployeeNameChanged', data: { tenant, entityId: 'ada', changedAt: later(6), first_name: 'Ada', last_name: 'King', display_full_name: 'Ada King' } })
  t.same(await written([renamed]), ['ada', ...reports].sort(), 'a new name: her reports too')
  for (const id of reports) t.equal((await views.getUser(tenant, id))?.manager?.displayName, 'Ada King', `${id}'s manager renamed`)
  const both = [
    recorded('ada', 3n, { type: 'EmployeeJobTitleChanged', data: { tenant, entityId: 'ada', changedAt: later(7), job_title: 'Analyst' } }),
    recorded('ada', 4n, { type: 'EmployeeNameChanged', data: { tenant, entityId: 'ada', changedAt: later(8), first_name: 'Ada', last_name: 'Byron', display_full_name: 'Ada Byron' } }),
  ]
  t.same(await written(both), ['ada', ...reports].sort(), 'a title and then a name in one batch: her reports too')
  const renamedBack = [
    recorded('ada', 5n, { type: 'EmployeeNameChanged', data: { tenant, entityId: 'ada', changedAt: later(9), first_name: 'Ada', last_name: 'X', display_full_name: 'Ada X' } }),
    recorded('ada', 6n, { type: 'EmployeeNameChanged', data: { tenant, entityId: 'ada', changedAt: later(10), first_name: 'Ada', last_name: 'Byron', display_full_name: 'Ada Byron' } }),
  ]
  t.same(await written(renamedBack), ['ada'], 'renamed and back within one batch: what the reports show is unchanged')
})
