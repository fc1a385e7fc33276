// Kombo unified HRIS records, as documented at docs.kombo.dev and in `@kombo-api/sdk` (see
// ../shared/kombo-api.md). Every field except `id` and `changed_at` may be null. Parsing is
// tolerant (`looseObject`): Kombo adds fields over time and an unknown one must not break a sync.
// What is *kept* is decided before these schemas run: the poller drops every field no scope needs
// (schemas/data-scopes.ts), so the sensitive fields declared here never reach the change log.
import { z } from 'zod'

const nullableString = z.string().nullable().optional()
/** ISO 8601 date-time as Kombo sends it; kept as a string so the exact value round-trips. */
export const isoDateTime = z.iso.datetime({ offset: true })
const nullableDateTime = isoDateTime.nullable().optional()

export const komboResources = [
  'employees',
  'groups',
  'work-locations',
  'legal-entities',
  'absence-types',
  'absences',
] as const
export const KomboResource = z.enum(komboResources)
export type KomboResource = z.infer<typeof KomboResource>

/** The HTTP path of each resource under the base URL (`/v1`). */
export const komboResourcePath: Record<KomboResource, string> = {
  employees: '/hris/employees',
  groups: '/hris/groups',
  'work-locations': '/hris/locations',
  'legal-entities': '/hris/legal-entities',
  'absence-types': '/hris/absence-types',
  absences: '/hris/absences',
}

export const KomboAddress = z
  .looseObject({
    street_1: nullableString,
    street_2: nullableString,
    city: nullableString,
    state: nullableString,
    zip_code: nullableString,
    country: nullableString,
    raw: nullableString,
  })
  .nullable()
  .optional()

/**
 * The longest entity id kombo-sync takes, in UTF-16 code units: the record schema (a longer id is
 * dead-lettered with the reason) and the read API's path parameters use this one limit, so every
 * record that syncs can also be fetched. Kombo's own ids are ~25 characters; HR systems' remote
 * ids stay far below this.
 */
export const ENTITY_ID_MAX_LENGTH = 255

const recordBase = {
  id: z.string().min(1).max(ENTITY_ID_MAX_LENGTH),
  remote_id: nullableString,
  changed_at: isoDateTime,
  remote_deleted_at: nullableDateTime,
}

export const KomboGroupType = z.enum(['DEPARTMENT', 'TEAM', 'COST_CENTER'])

export const KomboGroup = z.looseObject({
  ...recordBase,
  name: nullableString,
  type: KomboGroupType.nullable().optional(),
  parent_id: nullableString,
})
export type KomboGroup = z.infer<typeof KomboGroup>

export const KomboWorkLocation = z.looseObject({
  ...recordBase,
  name: nullableString,
  address: KomboAddress,
  type: nullableString,
})
export type KomboWorkLocation = z.infer<typeof KomboWorkLocation>

export const KomboLegalEntity = z.looseObject({
  ...recordBase,
  name: nullableString,
  address: KomboAddress,
})
export type KomboLegalEntity = z.infer<typeof KomboLegalEntity>

export const KomboAbsenceType = z.looseObject({
  ...recordBase,
  name: nullableString,
  unit: z.enum(['HOURS', 'DAYS']).nullable().optional(),
  half_days_supported: z.boolean().nullable().optional(),
  exact_times_supported: z.boolean().nullable().optional(),
})
export type KomboAbsenceType = z.infer<typeof KomboAbsenceType>

export const KomboAbsenceStatus = z.enum(['REQUESTED', 'APPROVED', 'DECLINED', 'CANCELLED', 'DELETED'])

export const KomboAbsence = z.looseObject({
  ...recordBase,
  employee_id: nullableString,
  approver_id: nullableString,
  start_date: nullableString,
  end_date: nullableString,
  start_half_day: z.boolean().nullable().optional(),
  end_half_day: z.boolean().nullable().optional(),
  start_time: nullableString,
  end_time: nullableString,
  amount: z.number().nullable().optional(),
  unit: z.enum(['HOURS', 'DAYS']).nullable().optional(),
  status: KomboAbsenceStatus.nullable().optional(),
  employee_note: nullableString,
  type_id: nullableString,
  remote_created_at: nullableDateTime,
  remote_updated_at: nullableDateTime,
  /** The absence type, expanded (dropped at the poller: `type_id` names it). */
  type: z.unknown().optional(),
})
export type KomboAbsence = z.infer<typeof KomboAbsence>

export const KomboEmploymentStatus = z.enum(['ACTIVE', 'PENDING', 'INACTIVE', 'LEAVE'])
export type KomboEmploymentStatus = z.infer<typeof KomboEmploymentStatus>
export const KomboEmploymentType = z.enum([
  'FULL_TIME',
  'PART_TIME',
  'CONTRACT',
  'INTERNSHIP',
  'FREELANCE',
  'WORKING_STUDENT',
  'APPRENTICESHIP',
  'TRAINING',
])

/** A group as embedded in an employee record (`groups` relation). */
export const KomboEmbeddedGroup = z.looseObject({
  id: z.string().min(1),
  name: nullableString,
  type: KomboGroupType.nullable().optional(),
  remote_id: nullableString,
})

export const KomboEmployee = z.looseObject({
  ...recordBase,
  employee_number: nullableString,
  first_name: nullableString,
  last_name: nullableString,
  nationality: nullableString,
  display_full_name: nullableString,
  job_title: nullableString,
  work_email: nullableString,
  personal_email: nullableString,
  mobile_phone_number: nullableString,
  gender: nullableString,
  date_of_birth: nullableString,
  employment_status: KomboEmploymentStatus.nullable().optional(),
  employment_type: KomboEmploymentType.nullable().optional(),
  weekly_hours: z.number().nullable().optional(),
  avatar: nullableString,
  work_location_id: nullableString,
  legal_entity_id: nullableString,
  manager_id: nullableString,
  start_date: nullableDateTime.or(z.iso.date()).nullable().optional(),
  termination_date: nullableDateTime.or(z.iso.date()).nullable().optional(),
  remote_created_at: nullableDateTime,
  custom_fields: z.record(z.string(), z.unknown()).nullable().optional(),
  integration_fields: z.array(z.unknown()).nullable().optional(),
  groups: z.array(KomboEmbeddedGroup).nullable().optional(),
  // Sent by Kombo depending on its scopes; all dropped at the poller (schemas/data-scopes.ts).
  ssn: nullableString,
  tax_id: nullableString,
  ethnicity: nullableString,
  marital_status: nullableString,
  bank_accounts: z.array(z.unknown()).nullable().optional(),
  employments: z.array(z.unknown()).nullable().optional(),
  time_off_balances: z.array(z.unknown()).nullable().optional(),
  manager: z.unknown().optional(),
  work_location: z.unknown().optional(),
  legal_entity: z.unknown().optional(),
  home_address: KomboAddress,
})
export type KomboEmployee = z.infer<typeof KomboEmployee>

export const komboRecordSchemas = {
  employees: KomboEmployee,
  groups: KomboGroup,
  'work-locations': KomboWorkLocation,
  'legal-entities': KomboLegalEntity,
  'absence-types': KomboAbsenceType,
  absences: KomboAbsence,
} as const satisfies Record<KomboResource, z.ZodType>

export type KomboRecordOf<R extends KomboResource> = z.infer<(typeof komboRecordSchemas)[R]>
export type KomboRecord = KomboRecordOf<KomboResource>

/** `{"status":"success","data":{"next":…,"results":[…]}}` */
export const KomboPage = z.object({
  status: z.literal('success'),
  data: z.object({ next: z.string().nullable(), results: z.array(z.unknown()) }),
})
export type KomboPage = z.infer<typeof KomboPage>

/** `{"status":"error","error":{"code":…,"title":…,"message":…}}` */
export const KomboErrorBody = z.object({
  status: z.literal('error'),
  error: z.looseObject({
    code: z.string().nullable().optional(),
    title: z.string().nullable().optional(),
    message: z.string().nullable().optional(),
  }),
})
export type KomboErrorBody = z.infer<typeof KomboErrorBody>
