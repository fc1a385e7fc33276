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
