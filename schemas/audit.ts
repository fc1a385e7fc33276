// The audit change log: one readable entry per change of a Learn Amp user, field by field, with
// its two times (HR and recorded) and its cause. Served by `GET /changes` and beside the raw events
// of `GET /users/{id}/history`; see docs/api.md ("Audit").
import { z } from 'zod'
import { userFeedEventTypes } from './user-feed.ts'

/** The user feed's event types, plus `UserActivated` (a start date reached is a change the log shows). */
export const changeEntryTypes = [...userFeedEventTypes, 'UserActivated'] as const
export const ChangeEntryType = z.enum(changeEntryTypes)
export type ChangeEntryType = z.infer<typeof ChangeEntryType>

/** Learn Amp user fields a change names (`manager`, `primaryLocation`: Kombo ids; `teams`: team ids). */
export const changeFields = [
  'remoteId',
  'employeeNumber',
  'firstName',
  'lastName',
  'displayName',
  'jobTitle',
  'email',
  'hireDate',
  'leaveDate',
  'avatar',
  'legalEntityId',
  'employmentType',
  'manager',
  'teams',
  'primaryLocation',
  'status',
  'deactivationReason',
  'invite',
  'inviteDueAt',
  'deletedInSource',
] as const
export const ChangeField = z.enum(changeFields)
export type ChangeField = z.infer<typeof ChangeField>

export const causeKinds = ['poll', 'webhook', 'clock', 'manual', 'hold-release'] as const
export const ChangeCause = z.object({
  kind: z.enum(causeKinds),
  actor: z.string().optional().describe('who, for manual commands and hold releases'),
  pollId: z.string().optional().describe('the poll round that brought the record'),
})
export type ChangeCause = z.infer<typeof ChangeCause>

export const FieldChange = z.object({ field: ChangeField, before: z.unknown(), after: z.unknown() })
export type FieldChange = z.infer<typeof FieldChange>

export const ChangeEntry = z.object({
  userId: z.string().describe('Kombo employee id = Learn Amp external id'),
  type: ChangeEntryType,
  at: z.string().describe('HR time: when the change took effect in the HR system (source changed_at, or the date reached)'),
  recordedAt: z.string().describe('recorded time: when kombo-sync decided the change'),
  changes: z.array(FieldChange),
  cause: ChangeCause,
  eventId: z.string().describe('the event-store event it was derived from'),
})
export type ChangeEntry = z.infer<typeof ChangeEntry>

/**
 * What happened to the tenant itself (from its audit trail, tenants/): settings, pause and resume,
 * tokens (their ids, never a token or its hash), the Kombo integration, offboarding and erasure.
 */
export const tenantChangeEntryTypes = [
  'TenantCreated',
  'TenantSettingsChanged',
  'TenantTokensChanged',
  'TenantIntegrationChanged',
  'TenantOffboarded',
  'TenantPersonalDataErased',
] as const
export const TenantChangeEntryType = z.enum(tenantChangeEntryTypes)
export type TenantChangeEntryType = z.infer<typeof TenantChangeEntryType>

/** Every type `GET /changes` can list. */
export const changeLogEntryTypes = [...changeEntryTypes, ...tenantChangeEntryTypes] as const
export type ChangeLogEntryType = (typeof changeLogEntryTypes)[number]

export const TenantChangeEntry = z.object({
  userId: z.null().describe('null: the entry is about the tenant, not a user'),
  type: TenantChangeEntryType,
  at: z.string().describe('when it was done (HR time and recorded time are the same for a tenant entry)'),
  recordedAt: z.string(),
  changes: z.array(z.object({ field: z.string().describe('a tenant setting or property, e.g. invitePolicy, timeZone, paused, token'), before: z.unknown(), after: z.unknown() })),
  cause: z.object({
    kind: z.enum(['admin', 'webhook', 'config', 'relink']).describe('the operator API, a Kombo lifecycle webhook, the tenants file, the re-linker'),
    actor: z.string().optional(),
    action: z.string().describe("the tenant audit trail's action, e.g. tenant.invite-policy-changed"),
  }),
  eventId: z.string().describe('tenant-audit-<n>: the record of the tenant audit trail it was derived from'),
})
export type TenantChangeEntry = z.infer<typeof TenantChangeEntry>

/** One entry of the tenant-wide change log: about a user, or about the tenant. */
export const ChangeLogEntry = z.union([ChangeEntry, TenantChangeEntry])
export type ChangeLogEntry = z.infer<typeof ChangeLogEntry>
