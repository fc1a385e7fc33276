// Kombo's webhook bodies, as `@kombo-api/sdk` (`models/webhooks`) defines them: an envelope
// `{ id, type, data }` whose `data` depends on `type`. Parsed tolerantly (unknown fields and enum
// values pass; only what kombo-sync acts on is required), because a webhook refused as malformed
// is retried by Kombo and then shown as failing in its dashboard.
import { z } from 'zod'
import type { KomboResource } from './kombo.ts'

const text = z.string().min(1).max(200)
const optionalText = z.string().nullable().optional()

export const KomboWebhookEnvelope = z.looseObject({ id: text, type: z.string().min(1).max(100), data: z.looseObject({}) })

/** The Kombo customer behind an integration; `origin_id` is the id we gave it (our tenant). */
export const KomboWebhookEndUser = z
  .looseObject({ organization_name: optionalText, creator_email: optionalText, origin_id: optionalText })
  .nullable()
  .optional()

export const DataChangedData = z.looseObject({
  integration_id: text,
  integration_tool: optionalText,
  integration_category: optionalText,
  /** Absent or empty: Kombo did not say what changed, so everything is polled. */
  changed_models: z.array(z.looseObject({ name: z.string() })).optional(),
})

export const SyncFinishedData = z.looseObject({
  integration_id: text,
  sync_id: optionalText,
  sync_state: optionalText,
  sync_started_at: optionalText,
  sync_ended_at: optionalText,
  end_user: KomboWebhookEndUser,
})

/** `integration-created` and `integration-deleted` name the integration `data.id`. */
export const IntegrationCreatedData = z.looseObject({ id: text, tool: optionalText, category: optionalText, end_user: KomboWebhookEndUser })
export const IntegrationDeletedData = z.looseObject({ id: text, tool: optionalText, deleted_at: optionalText, end_user: KomboWebhookEndUser })

/** `integration-state-changed` names it `data.integration_id`; `state` is ACTIVE, INVALID or INACTIVE. */
export const IntegrationStateChangedData = z.looseObject({
  integration_id: text,
  integration_tool: optionalText,
  state: z.string().min(1),
  setup_status: optionalText,
  qa_status: optionalText,
  updated_at: optionalText,
  end_user: KomboWebhookEndUser,
})

/**
 * Which of our resources a changed Kombo model is read through (Kombo's model names, SDK
 * `ChangedModel.name`). Employments and team memberships are part of the employee record.
 */
export const changedModelResources: Readonly<Record<string, KomboResource>> = {
  hris_employees: 'employees',
  hris_employments: 'employees',
  hris_join_employees_teams: 'employees',
  hris_teams: 'groups',
  hris_locations: 'work-locations',
  hris_legal_entities: 'legal-entities',
  hris_absence_types: 'absence-types',
  hris_absences: 'absences',
}
