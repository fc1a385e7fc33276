import t from 'tap'
import type { ConsumedChange } from '../producers/changelog/port.ts'
import { dropErasedEmployees } from './erased-employees.ts'

const change = (resource: ConsumedChange['resource'], key: string): ConsumedChange => ({ resource, key, partition: 0, offset: '0', value: {}, raw: Buffer.from('{}') })

t.test("drops only erased employees' records, per tenant", async (t) => {
  const asked: Array<[string, string[]]> = []
  const keys = {
    erasedAmong: async (tenant: string, ids: string[]) => {
      asked.push([tenant, ids])
      return new Set(tenant === 'acme' ? ids.filter((id) => id === 'ada') : [])
    },
  }
  const batch = [
    change('employees', 'acme:ada'),
    change('employees', 'acme:bob'),
    change('employees', 'globex:ada'),
    change('absences', 'acme:ada'),
    change('employees', 'acme:ada'),
  ]
  const { kept, dropped } = await dropErasedEmployees(batch, keys)
  t.same(kept.map((c) => `${c.resource}/${c.key}`), ['employees/acme:bob', 'employees/globex:ada', 'absences/acme:ada'], "another tenant's employee with the same id and other resources are kept")
  t.same(dropped, [{ tenant: 'acme', employeeId: 'ada' }, { tenant: 'acme', employeeId: 'ada' }])
  t.same(asked, [['acme', ['ada', 'bob', 'ada']], ['globex', ['ada']]], 'one lookup per tenant')
})

t.test('a batch without employees needs no lookup', async (t) => {
  const batch = [change('groups', 'acme:eng')]
  const { kept } = await dropErasedEmployees(batch, { erasedAmong: async () => t.fail('no lookup') as never })
  t.equal(kept, batch)
})
