// A tenant that switched an optional resource off gets a 404 naming the setting, not an empty list;
// the others are served as before.
import t from 'tap'
import { TenantSettings } from '../schemas/tenant.ts'
import type { HrRecordReader } from '../projections/viewstore/port.ts'
import { polledResources } from '../schemas/data-scopes.ts'
import { ApiError } from './errors.ts'
import { scopedHrRecords } from './hr-record-scopes.ts'

const reader: HrRecordReader = {
  listHrRecords: async () => ({ data: [], next: null }),
  getHrRecord: async (_tenant, _kind, id) => ({ externalId: id }) as never,
}

t.test('switched-off resources answer 404 scope_off; switched-on ones and unknown tenants reach the reader', async (t) => {
  const settings: Record<string, TenantSettings> = {
    all: TenantSettings.parse({}),
    some: TenantSettings.parse({ optionalResources: ['legal-entities'] }),
  }
  const scoped = scopedHrRecords(reader, (tenant) => settings[tenant])
  t.same(await scoped.listHrRecords('all', 'absence', { limit: 50 }), { data: [], next: null })
  t.same(await scoped.getHrRecord('some', 'legalEntity', 'le-1'), { externalId: 'le-1' })
  const refused = await scoped.listHrRecords('some', 'absence', { limit: 50 }).then(() => null, (err: unknown) => err)
  t.ok(refused instanceof ApiError, 'an API error')
  t.match(refused, { statusCode: 404, code: 'scope_off', message: /does not sync absences/ })
  await t.rejects(scoped.getHrRecord('some', 'absenceType', 'at-1'), { code: 'scope_off' })
  // Authentication answers for tenants it does not know before this is reached; the reader decides.
  t.same(await scoped.listHrRecords('nobody', 'absence', { limit: 50 }), { data: [], next: null })
})

t.test('the poller polls the directory resources always and the optional ones only when on', async (t) => {
  t.same(polledResources(TenantSettings.parse({})), ['employees', 'groups', 'work-locations', 'legal-entities', 'absence-types', 'absences'])
  t.same(polledResources(TenantSettings.parse({ optionalResources: [] })), ['employees', 'groups', 'work-locations'])
  t.same(polledResources(TenantSettings.parse({ optionalResources: ['absences'] })), ['employees', 'groups', 'work-locations', 'absences'])
})
