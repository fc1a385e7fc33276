// When the clock should next look at an employee: the earliest lifecycle instant (access begins,
// access ends, invite due) after `after`, in the tenant's time zone. Instants at or before `after`
// were already decided by whoever wrote the state at that time; a deactivation deferred for the
// mass-deactivation guard is due at once.
import { standingHold, type EmployeeState } from './employee-state.ts'
import { dateField, instantOf } from './employment.ts'
import { accessBeginsAt, accessEndsAt } from './hr-dates.ts'

export function nextDueAt(state: EmployeeState, after: Date, timeZone: string): Date | null {
  // A deferred deactivation is the mass-deactivation guard's to decide at the next clock tick.
  if (standingHold(state)?.status === 'deferred') return after
  const candidates: number[] = []
  const start = dateField(state.record, 'start_date')
  const term = dateField(state.record, 'termination_date')
  if (start) candidates.push(accessBeginsAt(start, timeZone))
  if (term) candidates.push(accessEndsAt(term, timeZone))
  if (state.invite.status === 'scheduled' && state.invite.dueAt) candidates.push(instantOf(state.invite.dueAt))
  const future = candidates.filter((t) => t > after.getTime())
  return future.length ? new Date(Math.min(...future)) : null
}
