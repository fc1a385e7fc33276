import t from 'tap'
import { TenantSettings, type Tenant } from '../schemas/tenant.ts'
import type { TenantPoller } from './tenant-poller.ts'
import { TenantPollers } from './tenant-pollers.ts'

const tenant = (id: string, over: Partial<Tenant> = {}): Tenant => ({
  id,
  integrationId: `${id}-int`,
  settings: TenantSettings.parse({}),
  status: 'active',
  failingReason: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
})

/** Fake pollers that record what happened to them. */
function given() {
  const log: string[] = []
  const made = new Map<string, { status: string }>()
  const pollers = new TenantPollers({
    create: (t) => {
      const fake = {
        status: 'idle',
        start() {
          fake.status = 'running'
          log.push(`start ${t.id} ${t.integrationId} ${t.settings.pollIntervalMs}`)
        },
        async stop() {
          fake.status = 'stopped'
          log.push(`stop ${t.id}`)
        },
      }
      made.set(t.id, fake)
      return fake as unknown as TenantPoller
    },
  })
  return { pollers, log, made }
}

t.test('polls exactly the active tenants bound to an integration', async (t) => {
  const { pollers, log } = given()
  await pollers.reconcile([tenant('acme'), tenant('paused', { status: 'paused' }), tenant('unbound', { integrationId: null }), tenant('gone', { status: 'offboarded' })])
  t.same([...pollers.pollers.keys()], ['acme'])
  t.same(log, ['start acme acme-int null'])
})

t.test('pause stops, resume starts again, an unchanged tenant is left alone', async (t) => {
  const { pollers, log } = given()
  await pollers.reconcile([tenant('acme'), tenant('globex')])
  await pollers.reconcile([tenant('acme', { status: 'paused' }), tenant('globex', { failingReason: 'something' })])
  t.same([...pollers.pollers.keys()], ['globex'])
  await pollers.reconcile([tenant('acme'), tenant('globex')])
  t.same(log, ['start acme acme-int null', 'start globex globex-int null', 'stop acme', 'start acme acme-int null'], 'globex kept running throughout')
})

t.test('a new integration or poll interval restarts the poller; so does any change to a self-stopped one', async (t) => {
  const { pollers, log, made } = given()
  await pollers.reconcile([tenant('acme')])
  await pollers.reconcile([tenant('acme', { integrationId: 'acme-int-2' })])
  await pollers.reconcile([tenant('acme', { integrationId: 'acme-int-2', settings: TenantSettings.parse({ pollIntervalMs: 60_000 }) })])
  t.same(log, ['start acme acme-int null', 'stop acme', 'start acme acme-int-2 null', 'stop acme', 'start acme acme-int-2 60000'])
  made.get('acme')!.status = 'failed'
  const failed = tenant('acme', { integrationId: 'acme-int-2', settings: TenantSettings.parse({ pollIntervalMs: 60_000 }) })
  await pollers.reconcile([failed])
  t.equal(log.length, 5, 'the same tenant again: a failed poller stays failed')
  await pollers.reconcile([{ ...failed, failingReason: null, updatedAt: '2026-01-02T00:00:00.000Z' }])
  t.same(log.slice(5), ['stop acme', 'start acme acme-int-2 60000'], 'a changed tenant restarts it')
})

t.test('a change of the scopes (optional fields or resources) restarts the poller; the same scopes in another order do not', async (t) => {
  const { pollers, log } = given()
  const withScopes = (optionalFields: string[], optionalResources: string[]) => tenant('acme', { settings: TenantSettings.parse({ optionalFields, optionalResources }) })
  await pollers.reconcile([withScopes(['avatar', 'nationality'], ['absences', 'legal-entities'])])
  await pollers.reconcile([withScopes(['nationality', 'avatar'], ['legal-entities', 'absences'])])
  t.same(log, ['start acme acme-int null'], 'reordered lists are the same scopes')
  await pollers.reconcile([withScopes(['nationality'], ['legal-entities', 'absences'])])
  await pollers.reconcile([withScopes(['nationality'], ['legal-entities'])])
  t.same(log, ['start acme acme-int null', 'stop acme', 'start acme acme-int null', 'stop acme', 'start acme acme-int null'])
})
