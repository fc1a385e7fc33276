// Kombo's webhooks as Kombo sends them: bodies built from the official SDK's webhook models
// (`@kombo-api/sdk`, serialised with its own *ToJSON, i.e. the wire format), signed as Kombo signs
// them (base64url HMAC-SHA256 of the raw body), parsed into the typed events of the webhook port.
import t from 'tap'
import { createHmac } from 'node:crypto'
import {
  dataChangedWebhookPayloadToJSON,
  integrationCreatedWebhookPayloadToJSON,
  integrationDeletedWebhookPayloadToJSON,
  integrationStateChangedWebhookPayloadToJSON,
  syncFinishedWebhookPayloadToJSON,
  connectionFlowFailedWebhookPayloadToJSON,
} from '@kombo-api/sdk/models'
import { komboResources } from '../../schemas/kombo.ts'
import { KomboWebhookVerifier } from './kombo-webhook.ts'
import { resourcesForChangedModels } from './kombo-webhook-events.ts'

const SECRET = 'whsec-from-the-kombo-dashboard'
const endUser = { organization_name: 'Acme GmbH', creator_email: 'admin@acme.example', origin_id: 'acme' }
/** What Kombo puts in the header: base64url without padding. */
const kombo = (raw: string) => createHmac('sha256', SECRET).update(raw).digest('base64url')
const verify = (raw: string) => new KomboWebhookVerifier({ secret: SECRET }).verify(Buffer.from(raw), kombo(raw))

t.test('data-changed: only the resources of the changed models', async (t) => {
  const raw = dataChangedWebhookPayloadToJSON({
    id: 'wh_dc_1',
    type: 'data-changed',
    data: {
      integration_id: 'personio:acme',
      integration_tool: 'personio',
      integration_category: 'HRIS',
      changed_models: [{ name: 'hris_employments' }, { name: 'hris_teams' }, { name: 'hris_join_employees_teams' }],
    },
  })
  t.notMatch(kombo(raw), /=$/, 'the signature as Kombo sends it has no padding')
  t.same(verify(raw), {
    ok: true,
    webhookId: 'wh_dc_1',
    type: 'data-changed',
    event: { kind: 'data-changed', webhookId: 'wh_dc_1', integrationId: 'personio:acme', resources: ['employees', 'groups'] },
  })
})

t.test('every changed model maps to its resource; an unknown one (or none) polls everything', async (t) => {
  const cases: Array<[string[], string[]]> = [
    [['hris_employees'], ['employees']],
    [['hris_employments'], ['employees']],
    [['hris_join_employees_teams'], ['employees']],
    [['hris_teams'], ['groups']],
    [['hris_locations'], ['work-locations']],
    [['hris_legal_entities'], ['legal-entities']],
    [['hris_absence_types'], ['absence-types']],
    [['hris_absences'], ['absences']],
    [['hris_absences', 'hris_employees'], ['employees', 'absences']],
    [['hris_employees', 'hris_time_off_balances'], [...komboResources]],
    [['something_kombo_adds_later'], [...komboResources]],
    [[], [...komboResources]],
  ]
  for (const [models, resources] of cases) t.same(resourcesForChangedModels(models.map((name) => ({ name }))), resources, models.join(', ') || 'none')
  t.same(resourcesForChangedModels(undefined), [...komboResources], 'no list at all')
})

t.test('sync-finished', async (t) => {
  const raw = syncFinishedWebhookPayloadToJSON({
    id: 'wh_sf_1',
    type: 'sync-finished',
    data: {
      sync_id: 'sync-1',
      sync_state: 'SUCCEEDED',
      sync_started_at: new Date('2026-03-01T10:00:00Z'),
      sync_ended_at: new Date('2026-03-01T10:05:00Z'),
      sync_duration_seconds: 300,
      integration_id: 'personio:acme',
      integration_tool: 'personio',
      integration_category: 'HRIS',
      end_user: endUser,
      log_url: 'https://app.kombo.dev/logs/1',
    },
  })
  t.same(verify(raw), {
    ok: true,
    webhookId: 'wh_sf_1',
    type: 'sync-finished',
    event: { kind: 'sync-finished', webhookId: 'wh_sf_1', integrationId: 'personio:acme', originId: 'acme', syncState: 'SUCCEEDED', syncEndedAt: '2026-03-01T10:05:00.000Z' },
  })
})

t.test('integration-created and integration-deleted name the integration data.id; both are accepted', async (t) => {
  const created = integrationCreatedWebhookPayloadToJSON({
    id: 'wh_ic_1',
    type: 'integration-created',
    data: { id: 'personio:acme', tool: 'personio', category: 'HRIS', end_user: endUser },
  })
  const c = verify(created)
  t.same(c, {
    ok: true,
    webhookId: 'wh_ic_1',
    type: 'integration-created',
    event: { kind: 'integration-created', webhookId: 'wh_ic_1', integrationId: 'personio:acme', originId: 'acme', tool: 'personio', organizationName: 'Acme GmbH' },
  })
  t.notMatch(JSON.stringify(c), 'admin@acme.example', "the creator's email is not passed on (no use for it)")

  const deleted = integrationDeletedWebhookPayloadToJSON({
    id: 'wh_id_1',
    type: 'integration-deleted',
    data: { id: 'personio:acme', tool: 'personio', category: 'HRIS', end_user: { ...endUser, origin_id: null }, deleted_at: new Date('2026-03-02T08:00:00Z') },
  })
  t.same(verify(deleted), {
    ok: true,
    webhookId: 'wh_id_1',
    type: 'integration-deleted',
    event: { kind: 'integration-deleted', webhookId: 'wh_id_1', integrationId: 'personio:acme', originId: null, deletedAt: '2026-03-02T08:00:00.000Z' },
  })
})

t.test('integration-state-changed names it data.integration_id and carries the state', async (t) => {
  const raw = integrationStateChangedWebhookPayloadToJSON({
    id: 'wh_isc_1',
    type: 'integration-state-changed',
    data: {
      integration_tool: 'personio',
      integration_id: 'personio:acme',
      integration_category: 'HRIS',
      end_user: endUser,
      qa_status: 'PASSED',
      setup_status: 'COMPLETED',
      state: 'INVALID',
      updated_at: new Date('2026-03-02T08:00:00Z'),
    },
  })
  t.same(verify(raw), {
    ok: true,
    webhookId: 'wh_isc_1',
    type: 'integration-state-changed',
    event: { kind: 'integration-state-changed', webhookId: 'wh_isc_1', integrationId: 'personio:acme', originId: 'acme', state: 'INVALID', setupStatus: 'COMPLETED', qaStatus: 'PASSED' },
  })
})

t.test('a genuine webhook of a type kombo-sync does not act on is accepted with no event; a known type without its id is a 400', async (t) => {
  const raw = connectionFlowFailedWebhookPayloadToJSON({
    id: 'wh_cff_1',
    type: 'connection-flow-failed',
    data: { end_user: endUser, integration_tool: 'personio', integration_category: 'HRIS', log_url: 'https://app.kombo.dev/logs/2' },
  } as Parameters<typeof connectionFlowFailedWebhookPayloadToJSON>[0])
  t.same(verify(raw), { ok: true, webhookId: 'wh_cff_1', type: 'connection-flow-failed', event: null })
  const noId = JSON.stringify({ id: 'wh_bad', type: 'integration-created', data: { integration_id: 'personio:acme', end_user: endUser } })
  t.match(verify(noId), { ok: false, status: 400, code: 'invalid_payload', message: /integration-created/ }, 'integration-created names the integration data.id')
})
