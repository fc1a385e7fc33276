// The remaining HRIS scopes as the read API serves them (read-only): legal entities, absence types
// and absences, each as its latest known record (Kombo field names in camelCase, only the fields
// kept per schemas/data-scopes.ts). `deleted`: the HR system no longer has it (kept for the audit).
import { z } from 'zod'
import { LearnAmpAddress } from './learnamp.ts'

const nullableString = z.string().nullable()
const nullableBoolean = z.boolean().nullable()
const unit = z.enum(['HOURS', 'DAYS']).nullable()

export const LegalEntityView = z.object({
  externalId: z.string(),
  remoteId: nullableString,
  name: nullableString,
  address: LearnAmpAddress.nullable(),
  deleted: z.boolean(),
})
export type LegalEntityView = z.infer<typeof LegalEntityView>

export const AbsenceTypeView = z.object({
  externalId: z.string(),
  remoteId: nullableString,
  name: nullableString,
  unit,
  halfDaysSupported: nullableBoolean,
  exactTimesSupported: nullableBoolean,
  deleted: z.boolean(),
})
export type AbsenceTypeView = z.infer<typeof AbsenceTypeView>

export const AbsenceView = z.object({
  externalId: z.string(),
  remoteId: nullableString,
  employeeId: nullableString,
  approverId: nullableString,
  typeId: nullableString,
  status: nullableString,
  /** Calendar days as Kombo sent them (see docs/api.md: HR dates). */
  startDate: nullableString,
  endDate: nullableString,
  startHalfDay: nullableBoolean,
  endHalfDay: nullableBoolean,
  startTime: nullableString,
  endTime: nullableString,
  amount: z.number().nullable(),
  unit,
  deleted: z.boolean(),
})
export type AbsenceView = z.infer<typeof AbsenceView>

export type HrRecordKind = 'legalEntity' | 'absenceType' | 'absence'
