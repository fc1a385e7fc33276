// Legal entities, absence types and absences as the read API serves them: the kept Kombo fields
// of the latest known record, in camelCase. Pure.
import type { EntityState } from '../../processors/domain/index.ts'
import type { AbsenceTypeView, AbsenceView, LegalEntityView } from '../../schemas/hr-records.ts'
import { toLearnAmpLocation } from './learnamp-team-location.ts'

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null)
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
const unitOf = (v: unknown): 'HOURS' | 'DAYS' | null => (v === 'HOURS' || v === 'DAYS' ? v : null)

export function toLegalEntityView(state: EntityState): LegalEntityView {
  // Same address shape as a location's.
  const { externalId, remoteId, name, address, deleted } = toLearnAmpLocation(state)
  return { externalId, remoteId, name, address, deleted }
}

export function toAbsenceTypeView(state: EntityState): AbsenceTypeView {
  const r = state.record
  return {
    externalId: state.entityId,
    remoteId: str(r.remote_id),
    name: str(r.name),
    unit: unitOf(r.unit),
    halfDaysSupported: bool(r.half_days_supported),
    exactTimesSupported: bool(r.exact_times_supported),
    deleted: state.deleted,
  }
}

export function toAbsenceView(state: EntityState): AbsenceView {
  const r = state.record
  return {
    externalId: state.entityId,
    remoteId: str(r.remote_id),
    employeeId: str(r.employee_id),
    approverId: str(r.approver_id),
    typeId: str(r.type_id),
    status: str(r.status),
    startDate: str(r.start_date),
    endDate: str(r.end_date),
    startHalfDay: bool(r.start_half_day),
    endHalfDay: bool(r.end_half_day),
    startTime: str(r.start_time),
    endTime: str(r.end_time),
    amount: num(r.amount),
    unit: unitOf(r.unit),
    deleted: state.deleted,
  }
}
