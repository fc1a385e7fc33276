// Where an employee stands at a given instant, derived from the record and the recorded lifecycle.
// Shared by the decisions (what to emit now) and the Learn Amp mapping (status as of a date), so
// both always agree. Dates without a time are taken as midnight UTC.
import type { DeactivationReason, EmployeeState } from './employee-state.ts'

const DAY_MS = 24 * 60 * 60 * 1000

export function dateField(record: Record<string, unknown>, key: string): string | null {
  const v = record[key]
  return typeof v === 'string' && v.length > 0 && !Number.isNaN(Date.parse(v)) ? v : null
}

export const instantOf = (date: string): number => Date.parse(date)
export const isoInstant = (date: string | number): string => new Date(typeof date === 'string' ? Date.parse(date) : date).toISOString()
export const isReached = (date: string, now: Date): boolean => instantOf(date) <= now.getTime()
export const daysBefore = (date: string, days: number): string => isoInstant(instantOf(date) - days * DAY_MS)

/** True when the person is out of employment at `now`: their leaving date was reached and no later start has come yet. */
export function hasLeft(state: EmployeeState, now: Date): boolean {
  const start = dateField(state.record, 'start_date')
  const term = dateField(state.record, 'termination_date')
  const startReached = start !== null && isReached(start, now)
  if (term !== null && isReached(term, now)) {
    const rehiredAfter = start !== null && instantOf(start) > instantOf(term) && startReached
    if (!rehiredAfter) return true
  }
  // Left earlier, rehired with a start date still ahead (the termination date may be cleared already).
  if (state.left !== null && start !== null && instantOf(start) > instantOf(state.left.terminationDate) && !startReached) {
    return true
  }
  return false
}

/** Why the Learn Amp user should be deactivated at `now`, or null when it should be active. */
export function deactivationReasonAt(state: EmployeeState, now: Date): DeactivationReason | null {
  if (state.deleted) return 'deleted_in_source'
  if (hasLeft(state, now)) return 'left'
  if (state.record.employment_status === 'INACTIVE') return 'inactive'
  return null
}

/** Before the start date the user exists but has not joined yet. */
export function isPending(state: EmployeeState, now: Date): boolean {
  const start = dateField(state.record, 'start_date')
  return start !== null && !isReached(start, now)
}
