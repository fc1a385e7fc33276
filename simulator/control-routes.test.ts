// The /_control API over real HTTP, checked through the Kombo API a client would see.
import t from 'tap'
import { KomboEmployee, KomboPage } from '../schemas/kombo.ts'
import { startKomboSimulator } from './index.ts'

const sim = await startKomboSimulator({ employees: 30, seed: 3, now: () => new Date('2025-06-15T12:00:00.000Z') })
t.teardown(() => sim.close())
const controlUrl = sim.url.replace(/\/v1$/, '/_control')

async function control(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(controlUrl + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  return { status: res.status, json: await res.json() }
}

async function employee(id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${sim.url}/hris/employees?include_deleted=true&ids=${id}`, { headers: { authorization: 'Bearer k', 'x-integration-id': 'ctl' } })
  const page = KomboPage.parse(await res.json())
  return KomboEmployee.parse(page.data.results[0]) as Record<string, unknown>
}

t.test('hire, patch, terminate, rehire, move, delete, restore', async (t) => {
  const hired = await control('POST', '/integrations/ctl/employees', { first_name: 'Grace', last_name: 'Hopper' })
  t.equal(hired.status, 201)
  const id = hired.json.id as string
  t.equal((await employee(id)).display_full_name, 'Grace Hopper')

  t.equal((await control('PATCH', `/integrations/ctl/employees/${id}`, { job_title: 'Rear Admiral' })).status, 200)
  t.equal((await employee(id)).job_title, 'Rear Admiral')

  t.equal((await control('POST', `/integrations/ctl/employees/${id}/terminate`, { date: '2025-06-01' })).json.employment_status, 'INACTIVE')
  t.equal((await employee(id)).termination_date, '2025-06-01T00:00:00.000Z')
  const rehired = await control('POST', `/integrations/ctl/employees/${id}/rehire`, { startDate: '2025-06-14' })
  t.equal(rehired.json.employment_status, 'ACTIVE')
  t.equal((await employee(id)).termination_date, null)

  const team = sim.integration('ctl').list('groups').find((g) => g.type === 'TEAM')!
  await control('POST', `/integrations/ctl/employees/${id}/move`, { groupIds: [team.id] })
  t.ok(((await employee(id)).groups as { id: string }[]).some((g) => g.id === team.id))

  t.equal((await control('DELETE', `/integrations/ctl/employees/${id}`)).status, 200)
  t.type((await employee(id)).remote_deleted_at, 'string')
  await control('POST', `/integrations/ctl/employees/${id}/restore`)
  t.equal((await employee(id)).remote_deleted_at, null)

  t.equal((await control('GET', `/integrations/ctl/employees/${id}`)).json.id, id)
  t.ok((await control('GET', '/integrations/ctl/groups')).json.length > 0)
})

t.test('bad control requests are 400/404 with a message', async (t) => {
  t.equal((await control('PATCH', '/integrations/ctl/employees/missing', { job_title: 'x' })).status, 404)
  t.equal((await control('GET', '/integrations/ctl/not-a-resource')).status, 400)
  t.equal((await control('POST', '/integrations/ctl/employees/x/terminate', { date: 42 })).status, 400)
  t.equal((await control('POST', '/faults', { kind: 'explode' })).status, 400)
  t.equal((await control('GET', '/nowhere')).status, 404)
})

t.test('faults through the control API', async (t) => {
  t.equal((await control('POST', '/faults', { kind: 'status', status: 503, integrationId: 'ctl' })).status, 201)
  const res = await fetch(`${sim.url}/hris/groups`, { headers: { authorization: 'Bearer k', 'x-integration-id': 'ctl' } })
  t.equal(res.status, 503)
  await control('POST', '/faults', { kind: 'status', status: 500, times: 3 })
  await control('DELETE', '/faults')
  const ok = await fetch(`${sim.url}/hris/groups`, { headers: { authorization: 'Bearer k', 'x-integration-id': 'ctl' } })
  t.equal(ok.status, 200)
  const log = (await control('GET', '/requests')).json as { status: number }[]
  t.same(log.slice(-2).map((e) => e.status), [503, 200])
})

t.test('random changes and churn change the company', async (t) => {
  const change = await control('POST', '/integrations/ctl/random-change')
  t.ok(sim.integration('ctl').get(change.json.resource, change.json.id), change.json.kind)
  const before = sim.integration('ctl').list('employees', { includeDeleted: true }).map((e) => e.changed_at).sort().at(-1)!
  t.equal((await control('POST', '/churn', { ratePerSecond: 200 })).status, 200)
  // Wait for churn by polling the state, not the clock.
  let latest = before
  for (let i = 0; i < 200 && latest === before; i++) {
    await new Promise((r) => setTimeout(r, 10))
    latest = [...(['employees', 'groups', 'absences'] as const)].flatMap((r) => sim.integration('ctl').list(r, { includeDeleted: true }).map((e) => e.changed_at)).sort().at(-1)!
  }
  t.ok(latest > before, 'churn made a change')
  t.equal((await control('DELETE', '/churn')).status, 200)
  t.equal((await control('POST', '/churn', { ratePerSecond: -1 })).status, 400)
})
