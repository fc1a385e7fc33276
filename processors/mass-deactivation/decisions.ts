// What the mass-deactivation guard adds to one employee stream: pure decisions on the folded state
// (no I/O). Each event id is deterministic (the hold id and the record version it was decided on),
// so a retried tick, release or discard appends nothing twice.
import type { EmployeeEvent } from '../../schemas/events.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import { deactivationReasonAt } from '../domain/employment.ts'
import { standingHold, type EmployeeState } from '../domain/employee-state.ts'
import { eventId } from '../domain/event-ids.ts'

type Decided = EmployeeEvent & { id: string }

const withId = (state: EmployeeState, version: string, event: EmployeeEvent): Decided => ({
  ...event,
  id: eventId(state.tenant, employeeStreamName(state.tenant, state.employeeId), `${state.changedAt}>${version}`, event.type),
})
const base = (state: EmployeeState) => ({ tenant: state.tenant, entityId: state.employeeId })
/** The deactivation's HR time, as a deactivation decided at once would have had it. */
const deactivatedAt = (state: EmployeeState, reason: string) => (reason === 'left' && state.left ? state.left.reachedAt : state.changedAt)

/** The employee's deferred deactivation, if one stands (what the guard counts). */
export function deferredReason(state: EmployeeState | null): EmployeeState['deactivationReason'] {
  const hold = state && standingHold(state)
  return hold?.status === 'deferred' ? hold.reason : null
}

/** Below the threshold: the deferred deactivation is applied, as it would have been at once. */
export function applyDeferred(state: EmployeeState | null): Decided[] {
  const reason = deferredReason(state)
  if (!state || !reason) return []
  const changedAt = deactivatedAt(state, reason)
  return [withId(state, `deactivated:${reason}:${changedAt}`, { type: 'UserDeactivated', data: { ...base(state), changedAt, reason } })]
}

/** Over the threshold: the deferred deactivation joins hold `holdId`; the user stays active. */
export function holdDeferred(state: EmployeeState | null, holdId: string, now: Date): Decided[] {
  const reason = deferredReason(state)
  if (!state || !reason) return []
  return [withId(state, `held:${holdId}`, { type: 'UserDeactivationHeld', data: { ...base(state), changedAt: now.toISOString(), holdId, reason, asOf: state.changedAt } })]
}

/** The held user of `holdId`, if they still are (their record did not change since). */
function heldIn(state: EmployeeState | null, holdId: string) {
  const hold = state && standingHold(state)
  return hold?.status === 'held' && hold.holdId === holdId ? hold : null
}

/**
 * Released: the held deactivation is applied, if it still stands and its reason still holds at
 * `now` (a user restored in the meantime is not deactivated).
 */
export function releaseHeld(state: EmployeeState | null, holdId: string, now: Date, timeZone: string): Decided[] {
  const hold = heldIn(state, holdId)
  if (!state || !hold || deactivationReasonAt(state, now, timeZone) !== hold.reason) return []
  const changedAt = deactivatedAt(state, hold.reason)
  return [withId(state, `released:${holdId}`, { type: 'UserDeactivated', data: { ...base(state), changedAt, reason: hold.reason } })]
}

/** Discarded: the user stays active until their next change from the HR system. */
export function discardHeld(state: EmployeeState | null, holdId: string, actor: string, now: Date): Decided[] {
  if (!state || !heldIn(state, holdId)) return []
  return [withId(state, `discarded:${holdId}`, { type: 'UserDeactivationDiscarded', data: { ...base(state), changedAt: now.toISOString(), holdId, actor } })]
}
