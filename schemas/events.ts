// Domain events: past tense, `type` discriminant, one zod schema each. Never change a published
// event's meaning; add a new type (with a version suffix) instead.
//
// Every event's data carries the tenant and the Kombo id of its entity, so an event read on its
// own (from `$all`, from a Kafka feed) says whose it is. `changedAt` is the source record's
// `changed_at` that caused the event (or, for clock events, the instant the date was reached).
import { z } from 'zod'
import { isoDateTime } from './kombo.ts'

const base = {
  tenant: z.string().min(1),
  entityId: z.string().min(1),
  changedAt: isoDateTime,
}
const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), data: z.object({ ...base, ...shape }) })

/** A Kombo record as kept in state: every field it had, unknown ones included. */
export const RecordSnapshot = z.record(z.string(), z.unknown())
export type RecordSnapshot = z.infer<typeof RecordSnapshot>
/** Field → new value (null when cleared). */
export const FieldChanges = z.record(z.string(), z.unknown())
export type FieldChanges = z.infer<typeof FieldChanges>

const nullableString = z.string().nullable()
const date = nullableString // ISO date or date-time as Kombo sent it

// ---- employee: facts from the HR system --------------------------------------------------------
export const EmployeeImported = event('EmployeeImported', { snapshot: RecordSnapshot })
export const EmployeeNameChanged = event('EmployeeNameChanged', {
  first_name: nullableString,
  last_name: nullableString,
  display_full_name: nullableString,
})
export const EmployeeJobTitleChanged = event('EmployeeJobTitleChanged', { job_title: nullableString })
export const EmployeeWorkEmailChanged = event('EmployeeWorkEmailChanged', { work_email: nullableString })
export const EmployeeManagerChanged = event('EmployeeManagerChanged', { manager_id: nullableString })
export const EmployeeTeamsChanged = event('EmployeeTeamsChanged', { groups: z.array(z.record(z.string(), z.unknown())) })
export const EmployeeWorkLocationChanged = event('EmployeeWorkLocationChanged', { work_location_id: nullableString })
export const EmployeeLegalEntityChanged = event('EmployeeLegalEntityChanged', { legal_entity_id: nullableString })
export const EmployeeStartDateChanged = event('EmployeeStartDateChanged', { start_date: date })
export const EmployeeLeaveDateChanged = event('EmployeeLeaveDateChanged', { termination_date: date })
export const EmployeeEmploymentStatusChanged = event('EmployeeEmploymentStatusChanged', {
  employment_status: nullableString,
})
export const EmployeeAvatarChanged = event('EmployeeAvatarChanged', { avatar: nullableString })
/** Any other field of the record (employee_number, custom_fields, unknown fields …). */
export const EmployeeDetailsChanged = event('EmployeeDetailsChanged', { changes: FieldChanges })
export const EmployeeDeletedInSource = event('EmployeeDeletedInSource', { remote_deleted_at: isoDateTime })
export const EmployeeRestoredInSource = event('EmployeeRestoredInSource', {})
/**
 * Kombo nulled the fields of a record deleted earlier (its deletion policy, 14 days on). Not a
 * change of values: the last known ones are kept; recorded once so the audit shows it.
 */
export const EmployeePurgedInSource = event('EmployeePurgedInSource', { remote_deleted_at: isoDateTime })
/**
 * The customer reconnected their HR system: Kombo now knows this employee under a new id (of a new
 * integration). The stream keeps its name and history; records under `toKomboId` flow into it from
 * now on (producers/relink). `matchedBy` says how the new record was recognised as this employee.
 * Not a change of values: the state is unchanged.
 */
export const EmployeeRelinked = event('EmployeeRelinked', {
  fromKomboId: z.string(),
  toKomboId: z.string(),
  fromIntegrationId: z.string().nullable(),
  toIntegrationId: z.string(),
  matchedBy: z.enum(['remote_id', 'work_email']),
})

// ---- employee: dates reached (emitted by the clock, idempotently) --------------------------------
export const EmployeeStarted = event('EmployeeStarted', { on: z.string() })
export const EmployeeLeft = event('EmployeeLeft', { on: z.string() })

// ---- Learn Amp side decisions --------------------------------------------------------------------
export const InvitePolicyName = z.enum(['manual', 'immediate', 'on_start_date'])
export const UserInviteScheduled = event('UserInviteScheduled', { dueAt: isoDateTime, policy: InvitePolicyName })
export const UserInvited = event('UserInvited', { by: z.enum(['policy', 'manual']), actor: z.string().nullable() })
export const UserDeactivated = event('UserDeactivated', {
  reason: z.enum(['left', 'inactive', 'deleted_in_source']),
})
export const UserReactivated = event('UserReactivated', { reason: z.enum(['rehired', 'active', 'restored_in_source']) })

// ---- the mass-deactivation guard (processors/mass-deactivation/) -----------------------------------
// A deactivation of an active user is first deferred; the guard then applies it (UserDeactivated)
// or holds it with the rest of its round for an operator, who releases (UserDeactivated) or
// discards it (the user stays active until their next change from the HR system).
const deactivationReason = z.enum(['left', 'inactive', 'deleted_in_source'])
// `asOf`: the record version (`changed_at`) decided on; a later change from the HR system ends the marker.
export const UserDeactivationDeferred = event('UserDeactivationDeferred', { reason: deactivationReason, asOf: z.string(), deferredAt: isoDateTime })
export const UserDeactivationHeld = event('UserDeactivationHeld', { holdId: z.string().min(1), reason: deactivationReason, asOf: z.string() })
export const UserDeactivationDiscarded = event('UserDeactivationDiscarded', { holdId: z.string().min(1), actor: z.string().min(1) })

export const EmployeeEvent = z.discriminatedUnion('type', [
  EmployeeImported,
  EmployeeNameChanged,
  EmployeeJobTitleChanged,
  EmployeeWorkEmailChanged,
  EmployeeManagerChanged,
  EmployeeTeamsChanged,
  EmployeeWorkLocationChanged,
  EmployeeLegalEntityChanged,
  EmployeeStartDateChanged,
  EmployeeLeaveDateChanged,
  EmployeeEmploymentStatusChanged,
  EmployeeAvatarChanged,
  EmployeeDetailsChanged,
  EmployeeDeletedInSource,
  EmployeeRestoredInSource,
  EmployeePurgedInSource,
  EmployeeRelinked,
  EmployeeStarted,
  EmployeeLeft,
  UserInviteScheduled,
  UserInvited,
  UserDeactivated,
  UserReactivated,
  UserDeactivationDeferred,
  UserDeactivationHeld,
  UserDeactivationDiscarded,
])
export type EmployeeEvent = z.infer<typeof EmployeeEvent>
export type EmployeeEventType = EmployeeEvent['type']

// ---- other entities: one small vocabulary each -----------------------------------------------------
// Teams (Kombo groups), locations, legal entities, absence types and absences change as a whole
// record; their events carry the changed fields.
const entityEvents = <P extends string>(prefix: P) =>
  [
    event(`${prefix}Imported` as `${P}Imported`, { snapshot: RecordSnapshot }),
    event(`${prefix}Changed` as `${P}Changed`, { changes: FieldChanges }),
    event(`${prefix}DeletedInSource` as `${P}DeletedInSource`, { remote_deleted_at: isoDateTime }),
    event(`${prefix}RestoredInSource` as `${P}RestoredInSource`, {}),
    // Kombo nulled the fields of the deleted record: the last known values are kept (see EmployeePurgedInSource).
    event(`${prefix}PurgedInSource` as `${P}PurgedInSource`, { remote_deleted_at: isoDateTime }),
  ] as const

export const TeamEvent = z.discriminatedUnion('type', entityEvents('Team'))
export type TeamEvent = z.infer<typeof TeamEvent>
export const LocationEvent = z.discriminatedUnion('type', entityEvents('Location'))
export type LocationEvent = z.infer<typeof LocationEvent>
export const LegalEntityEvent = z.discriminatedUnion('type', entityEvents('LegalEntity'))
export type LegalEntityEvent = z.infer<typeof LegalEntityEvent>
export const AbsenceTypeEvent = z.discriminatedUnion('type', entityEvents('AbsenceType'))
export type AbsenceTypeEvent = z.infer<typeof AbsenceTypeEvent>
export const AbsenceEvent = z.discriminatedUnion('type', entityEvents('Absence'))
export type AbsenceEvent = z.infer<typeof AbsenceEvent>

export type EntityEvent = TeamEvent | LocationEvent | LegalEntityEvent | AbsenceTypeEvent | AbsenceEvent
export type DomainEvent = EmployeeEvent | EntityEvent
export const DomainEvent = z.union([EmployeeEvent, TeamEvent, LocationEvent, LegalEntityEvent, AbsenceTypeEvent, AbsenceEvent])

/** Metadata stored beside each event: where the fact came from. */
export const EventMetadata = z.looseObject({
  changedAt: isoDateTime.optional(),
  pollId: z.string().optional(),
  source: z
    .object({ topic: z.string(), partition: z.number().int(), offset: z.string() })
    .optional(),
  correlationId: z.string().optional(),
})
export type EventMetadata = z.infer<typeof EventMetadata>
