// A tenant as kombo-sync keeps it in the database: one Learn Amp customer account bound to one
// Kombo integration, with the settings every role reads (invite policy, time zone, poll cadence,
// optional fields, mass-deactivation threshold) and its lifecycle (paused, failing, offboarded).
// API tokens are not part of it: they live beside it as sha256 hashes (tenants/port.ts).
import { z } from 'zod'
import { TenantId } from './envelope.ts'
import { InvitePolicy } from './invite-policy.ts'

/** An IANA time zone name that this runtime's Intl knows (e.g. `Europe/Berlin`, `UTC`). */
export const TimeZone = z.string().min(1).max(64).refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone })
      return true
    } catch {
      return false
    }
  },
  { message: 'must be an IANA time zone name, e.g. Europe/Berlin or UTC' },
)

/**
 * When one poll round or clock tick would deactivate more users than this, the deactivations are
 * held for an operator (issue 15). Both bounds must be exceeded; `enabled: false` turns it off.
 */
export const MassDeactivationThreshold = z
  .object({
    enabled: z.boolean().default(true),
    /** More than this share of the tenant's active users, in percent. */
    percent: z.number().min(0).max(100).default(10),
    /** And at least this many users. */
    minUsers: z.number().int().min(1).default(10),
  })
  .strict()
export type MassDeactivationThreshold = z.infer<typeof MassDeactivationThreshold>
export const defaultMassDeactivation: MassDeactivationThreshold = { enabled: true, percent: 10, minUsers: 10 }

/** Optional Kombo fields (optional scopes) this tenant keeps; every other optional one is dropped. */
export const OptionalField = z.enum(['avatar', 'legal_entity_id', 'employment_type', 'nationality', 'custom_fields'])
export type OptionalField = z.infer<typeof OptionalField>
export const allOptionalFields: OptionalField[] = [...OptionalField.options]

/**
 * Optional Kombo resources (optional scopes, ../shared/DESIGN.md): synced and served read-only
 * unless the tenant switches them off. Employees, groups and work locations are the directory
 * itself and always synced.
 */
export const OptionalResource = z.enum(['legal-entities', 'absence-types', 'absences'])
export type OptionalResource = z.infer<typeof OptionalResource>
export const allOptionalResources: OptionalResource[] = [...OptionalResource.options]

/** What an operator (or a tenants file) may set. */
export const TenantSettings = z
  .object({
    invitePolicy: InvitePolicy.default({ mode: 'manual' }),
    timeZone: TimeZone.default('UTC'),
    /** null: the deployment's POLL_INTERVAL_MS. */
    pollIntervalMs: z.number().int().min(1000).nullable().default(null),
    /** null: the deployment's KOMBO_FULL_RECONCILE_INTERVAL_MS; 0 turns the full reconcile off for this tenant. */
    fullReconcileIntervalMs: z.number().int().min(0).nullable().default(null),
    optionalFields: z.array(OptionalField).default(allOptionalFields),
    /** The optional resources polled and served for this tenant; a resource left out is never read from Kombo. */
    optionalResources: z.array(OptionalResource).default(allOptionalResources),
    massDeactivation: MassDeactivationThreshold.default(defaultMassDeactivation),
  })
  .strict()
export type TenantSettings = z.infer<typeof TenantSettings>

/**
 * - active: polled, processed, served
 * - paused: not polled (by an operator, or because Kombo deleted the integration); still served
 * - offboarded: not polled, tokens revoked, nothing served; kept for the audit trail
 */
export const TenantStatus = z.enum(['active', 'paused', 'offboarded'])
export type TenantStatus = z.infer<typeof TenantStatus>

export const Tenant = z.object({
  id: TenantId,
  /** null: created before Kombo bound an integration to it (integration-created binds it). */
  integrationId: z.string().min(1).nullable(),
  settings: TenantSettings,
  status: TenantStatus,
  /** Why the tenant needs attention (e.g. Kombo reports the integration INVALID); null when fine. */
  failingReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type Tenant = z.infer<typeof Tenant>

/** Who did something to a tenant, and what: invite-policy changes, pauses, offboarding … */
export const TenantAuditRecord = z.object({
  tenant: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  details: z.record(z.string(), z.unknown()),
})
export type TenantAuditRecord = z.infer<typeof TenantAuditRecord>
