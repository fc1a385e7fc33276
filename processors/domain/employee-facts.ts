// The one field → event table of an employee: which Kombo fields have an event of their own. The
// diff emits one such event when any of its fields changes (in this order); the fold copies exactly
// these fields from the event back into the record. The rest of the record goes into
// EmployeeDetailsChanged.
import type { EmployeeEvent } from '../../schemas/events.ts'

export type FieldEventType =
  | 'EmployeeNameChanged'
  | 'EmployeeJobTitleChanged'
  | 'EmployeeWorkEmailChanged'
  | 'EmployeeManagerChanged'
  | 'EmployeeTeamsChanged'
  | 'EmployeeWorkLocationChanged'
  | 'EmployeeLegalEntityChanged'
  | 'EmployeeStartDateChanged'
  | 'EmployeeLeaveDateChanged'
  | 'EmployeeEmploymentStatusChanged'
  | 'EmployeeAvatarChanged'

/** The fields each dedicated event carries: its data keys besides tenant, entityId and changedAt. */
type FieldsOf<T extends FieldEventType> = Exclude<keyof Extract<EmployeeEvent, { type: T }>['data'], 'tenant' | 'entityId' | 'changedAt'>

export const fieldEvents: { readonly [T in FieldEventType]: readonly FieldsOf<T>[] } = {
  EmployeeNameChanged: ['first_name', 'last_name', 'display_full_name'],
  EmployeeJobTitleChanged: ['job_title'],
  EmployeeWorkEmailChanged: ['work_email'],
  EmployeeManagerChanged: ['manager_id'],
  EmployeeTeamsChanged: ['groups'],
  EmployeeWorkLocationChanged: ['work_location_id'],
  EmployeeLegalEntityChanged: ['legal_entity_id'],
  EmployeeStartDateChanged: ['start_date'],
  EmployeeLeaveDateChanged: ['termination_date'],
  EmployeeEmploymentStatusChanged: ['employment_status'],
  EmployeeAvatarChanged: ['avatar'],
}

/** The table as [type, fields] rows, in the order the diff emits them. */
export const fieldEventRows = Object.entries(fieldEvents) as ReadonlyArray<readonly [FieldEventType, readonly string[]]>

/** The fields an event of this type sets, or undefined when it is not a dedicated field event. */
export const fieldsOfEvent = (type: string): readonly string[] | undefined =>
  Object.hasOwn(fieldEvents, type) ? fieldEvents[type as FieldEventType] : undefined

/** Every field that has an event of its own. */
export const dedicatedFields: readonly string[] = fieldEventRows.flatMap(([, fields]) => fields)
