// A verified Kombo webhook body → the typed event the webhook port receives (api/ports.ts).
// Pure: no signature, no replay memory (kombo-webhook.ts does those first).
import { z } from 'zod'
import { komboResources, type KomboResource } from '../../schemas/kombo.ts'
import {
  changedModelResources,
  DataChangedData,
  IntegrationCreatedData,
  IntegrationDeletedData,
  IntegrationStateChangedData,
  KomboWebhookEnvelope,
  SyncFinishedData,
} from '../../schemas/kombo-webhooks.ts'
import type { KomboWebhookEvent } from '../ports.ts'

export type ParsedKomboWebhook =
  /** event null: a Kombo webhook kombo-sync does not act on (e.g. an ATS or assessment one). */
  | { ok: true; webhookId: string; type: string; event: KomboWebhookEvent | null }
  | { ok: false; message: string }

/**
 * The resources to poll for the models a `data-changed` webhook names. A model we do not know (or
 * no list at all) could be anything, so then every resource is polled: an extra poll is cheap, a
 * missed change is not.
 */
export function resourcesForChangedModels(models: ReadonlyArray<{ name: string }> | undefined): KomboResource[] {
  if (!models || models.length === 0) return [...komboResources]
  const named = new Set<KomboResource>()
  for (const { name } of models) {
    const resource = changedModelResources[name]
    if (!resource) return [...komboResources]
    named.add(resource)
  }
  return komboResources.filter((r) => named.has(r))
}

const problem = (type: string, error: z.ZodError) => `the body is not a Kombo ${type} webhook: ${z.prettifyError(error).replace(/\n/g, '; ')}`

export function parseKomboWebhook(json: unknown): ParsedKomboWebhook {
  const envelope = KomboWebhookEnvelope.safeParse(json)
  if (!envelope.success) return { ok: false, message: problem('', envelope.error).replace('Kombo  webhook', 'Kombo webhook') }
  const { id: webhookId, type, data } = envelope.data
  const accepted = (event: KomboWebhookEvent | null): ParsedKomboWebhook => ({ ok: true, webhookId, type, event })
  switch (type) {
    case 'data-changed': {
      const d = DataChangedData.safeParse(data)
      if (!d.success) return { ok: false, message: problem(type, d.error) }
      return accepted({ kind: 'data-changed', webhookId, integrationId: d.data.integration_id, resources: resourcesForChangedModels(d.data.changed_models) })
    }
    case 'sync-finished': {
      const d = SyncFinishedData.safeParse(data)
      if (!d.success) return { ok: false, message: problem(type, d.error) }
      return accepted({
        kind: 'sync-finished',
        webhookId,
        integrationId: d.data.integration_id,
        originId: d.data.end_user?.origin_id ?? null,
        syncState: d.data.sync_state ?? null,
        syncEndedAt: d.data.sync_ended_at ?? null,
      })
    }
    case 'integration-created': {
      const d = IntegrationCreatedData.safeParse(data)
      if (!d.success) return { ok: false, message: problem(type, d.error) }
      return accepted({
        kind: 'integration-created',
        webhookId,
        integrationId: d.data.id,
        originId: d.data.end_user?.origin_id ?? null,
        tool: d.data.tool ?? null,
        organizationName: d.data.end_user?.organization_name ?? null,
      })
    }
    case 'integration-deleted': {
      const d = IntegrationDeletedData.safeParse(data)
      if (!d.success) return { ok: false, message: problem(type, d.error) }
      return accepted({ kind: 'integration-deleted', webhookId, integrationId: d.data.id, originId: d.data.end_user?.origin_id ?? null, deletedAt: d.data.deleted_at ?? null })
    }
    case 'integration-state-changed': {
      const d = IntegrationStateChangedData.safeParse(data)
      if (!d.success) return { ok: false, message: problem(type, d.error) }
      return accepted({
        kind: 'integration-state-changed',
        webhookId,
        integrationId: d.data.integration_id,
        originId: d.data.end_user?.origin_id ?? null,
        state: d.data.state,
        setupStatus: d.data.setup_status ?? null,
        qaStatus: d.data.qa_status ?? null,
      })
    }
    default:
      return accepted(null)
  }
}
