// Kombo's own TypeScript SDK (@kombo-api/sdk) as the judge of the simulator's shapes: it validates
// every response against Kombo's OpenAPI models and throws ResponseValidationError on any field of
// the wrong type or missing. Paging every resource through it, after the kinds of change the
// simulator makes (hires, leavers, deletions, renames, new absences), must raise nothing.
import t from 'tap'
import { Kombo } from '@kombo-api/sdk'
import { ResponseValidationError } from '@kombo-api/sdk/models/errors'
import { startKomboSimulator } from './index.ts'

const now = new Date('2026-06-15T12:00:00.000Z')
const sim = await startKomboSimulator({ employees: 40, seed: 11, now: () => now })
t.teardown(() => sim.close())

const company = sim.integration('acme')
for (let i = 0; i < 60; i++) company.randomChange()
const someone = company.list('employees')[3]!
company.remove('employees', someone.id)
company.hire({ first_name: 'Ada', last_name: 'Lovelace', start_date: '2026-07-01' })
const type = company.list('absence-types')[0]!
company.update('absence-types', type.id, { name: 'Holiday' })

const kombo = new Kombo({ api_key: 'sdk-conformance-key', integration_id: 'acme', server_url: sim.url, retry_config: { strategy: 'none' } })

/** Pages one SDK list method to the end; returns every record the SDK parsed. */
async function pageAll(list: (req: { include_deleted: boolean; page_size: number }) => Promise<AsyncIterable<{ result: { data: { results: unknown[] } } }>>) {
  const records: Record<string, unknown>[] = []
  let pages = 0
  for await (const page of await list({ include_deleted: true, page_size: 7 })) {
    records.push(...(page.result.data.results as Record<string, unknown>[]))
    pages++
  }
  return { records, pages }
}

const lists = {
  employees: (r: { include_deleted: boolean; page_size: number }) => kombo.hris.getEmployees(r),
  groups: (r: { include_deleted: boolean; page_size: number }) => kombo.hris.getGroups(r),
  'work-locations': (r: { include_deleted: boolean; page_size: number }) => kombo.hris.getLocations(r),
  'legal-entities': (r: { include_deleted: boolean; page_size: number }) => kombo.hris.getLegalEntities(r),
  'absence-types': (r: { include_deleted: boolean; page_size: number }) => kombo.hris.getAbsenceTypes(r),
  absences: (r: { include_deleted: boolean; page_size: number }) => kombo.hris.getAbsences(r),
} as const

for (const [resource, list] of Object.entries(lists)) {
  t.test(`the SDK pages every ${resource} record without a validation error`, async (t) => {
    let result: Awaited<ReturnType<typeof pageAll>>
    try {
      result = await pageAll(list as Parameters<typeof pageAll>[0])
    } catch (err) {
      const detail = err instanceof ResponseValidationError ? err.pretty() : String(err)
      t.fail(`the SDK rejected the simulator's ${resource}: ${detail}`)
      return
    }
    const expected = company.list(resource as keyof typeof lists, { includeDeleted: true }).length
    t.equal(result.records.length, expected, `every ${resource} record, deleted ones included`)
    t.ok(result.pages > 1 || expected <= 7, `followed the cursor (${result.pages} pages)`)
  })
}

t.test('what the SDK parsed carries the fields a real integration sends, nested objects included', async (t) => {
  const { records } = await pageAll(lists.employees)
  const withManager = records.find((e) => e.manager !== null) as Record<string, any>
  t.ok(withManager, 'someone has a manager')
  t.equal(withManager.manager.id, withManager.manager_id, 'the nested manager is the one manager_id names')
  const manager = records.find((e) => e.id === withManager.manager_id) as Record<string, any>
  t.equal(withManager.manager.display_full_name, manager.display_full_name, "with the manager's current name")
  const e = records.find((r) => r.id === someone.id) as Record<string, any>
  t.type(e.ssn, 'string')
  t.type(e.tax_id, 'string')
  t.ok(e.bank_accounts.length > 0 && typeof e.bank_accounts[0].iban === 'string', 'bank accounts')
  t.type(e.employments[0].pay_rate, 'number')
  t.type(e.employments[0].pay_currency, 'string')
  t.ok(e.time_off_balances.length > 0, 'time-off balances')
  t.ok(e.work_location && e.work_location.changed_at instanceof Date, 'the work location embeds its own timestamps')
  t.ok(e.legal_entity && typeof e.legal_entity.name === 'string', 'the legal entity')
  t.ok(e.remote_deleted_at instanceof Date, 'the deleted employee is marked deleted')

  const absences = (await pageAll(lists.absences)).records as Array<Record<string, any>>
  const renamed = absences.filter((a) => a.type_id === type.id)
  t.ok(renamed.length > 0 && renamed.every((a) => a.type.name === 'Holiday'), 'absences embed their type, renames included')
  t.ok(absences.every((a) => a.remote_created_at instanceof Date && a.remote_updated_at instanceof Date), 'remote_created_at and remote_updated_at')
})
