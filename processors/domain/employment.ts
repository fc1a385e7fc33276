// Where an employee stands at a given instant, derived from the record and the recorded lifecycle.
// Shared by the decisions (what to emit now) and the Learn Amp mapping (status as of a date), so
// both always agree. HR dates are calendar days in the tenant's time zone (see hr-dates.ts): the
// start date's day begins access, the termination date is the last day of employment.
import { standingHold, type DeactivationReason, type EmployeeState } from './employee-state.ts'
import { accessBeginsAt, accessEndsAt, inviteDueAt } from './hr-dates.ts'

export function dateField(record: Record<string, unknown>, key: string): string | null {
  const v = record[key]
  return typeof v === 'string' && v.length > 0 && !Number.isNaN(Date.parse(v)) ? v : null
}

/** The date as written (midnight UTC for a calendar day): for ordering dates against each other only. */
export const instantOf = (date: string): number => Date.parse(date)
export const isoInstant = (date: string | number): string => new Date(typeof date === 'string' ? Date.parse(date) : date).toISOString()
/** The start date's day has begun in the tenant's zone. */
export const startReached = (start: string, now: Date, timeZone: string): boolean => accessBeginsAt(start, timeZone) <= now.getTime()
/** The termination date's day (the last day of employment) is over in the tenant's zone. */
export const terminationReached = (term: string, now: Date, timeZone: string): boolean => accessEndsAt(term, timeZone) <= now.getTime()
/** When an invite `days` local days before `start` is due (ISO instant). */
export const inviteDueIso = (start: string, days: number, timeZone: string): string => isoInstant(inviteDueAt(start, days, timeZone))

/** True when the person is out of employment at `now`: their last day is over and no later start has come yet. */
export function hasLeft(state: EmployeeState, now: Date, timeZone: string): boolean {
  const start = dateField(state.record, 'start_date')
  const term = dateField(state.record, 'termination_date')
  const started = start !== null && startReached(start, now, timeZone)
  if (term !== null && terminationReached(term, now, timeZone)) {
    const rehiredAfter = start !== null && instantOf(start) > instantOf(term) && started
    if (!rehiredAfter) return true
  }
  // Left earlier, rehired with a start date still ahead (the termination date may be cleared already).
  if (state.left !== null && start !== null && instantOf(start) > instantOf(state.left.terminationDate) && !started) {
    return true
  }
  return false
}

/** Why the Learn Amp user should be deactivated at `now`, or null when it should be active. */
export function deactivationReasonAt(state: EmployeeState, now: Date, timeZone: string): DeactivationReason | null {
  if (state.deleted) return 'deleted_in_source'
  if (hasLeft(state, now, timeZone)) return 'left'
  if (state.record.employment_status === 'INACTIVE') return 'inactive'
  return null
}

/**
 * Why the user is deactivated at `now` as Learn Amp sees it: as `deactivationReasonAt`, except
 * while the mass-deactivation guard keeps an active user active (deferred, held or discarded).
 */
export function shownDeactivationReasonAt(state: EmployeeState, now: Date, timeZone: string): DeactivationReason | null {
  if (standingHold(state)) return null
  return deactivationReasonAt(state, now, timeZone)
}

/** Before the start date's day the user exists but has not joined yet. */
export function isPending(state: EmployeeState, now: Date, timeZone: string): boolean {
  const start = dateField(state.record, 'start_date')
  return start !== null && !startReached(start, now, timeZone)
}
