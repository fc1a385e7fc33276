// What we know about one employee, folded from their event stream. Pure: no I/O, no clock.
import type { EmployeeEvent } from '../../schemas/events.ts'
import type { RecordSnapshot } from '../../schemas/events.ts'
import { isBefore } from './record-diff.ts'
import { fieldsOfEvent } from './employee-facts.ts'

export type DeactivationReason = 'left' | 'inactive' | 'deleted_in_source'
export type InviteStatus = 'none' | 'scheduled' | 'invited'

export interface EmployeeState {
  tenant: string
  employeeId: string
  /** The full Kombo record as last known, unknown fields included. */
  record: RecordSnapshot
  /** The latest source `changed_at` applied; older records are ignored. */
  changedAt: string
  deleted: boolean
  /** Kombo nulled the deleted record's fields (EmployeePurgedInSource); `record` keeps the last known values. Absent in states folded before purges were recorded. */
  purged?: boolean
  /** The start date that was reached (an EmployeeStarted was recorded for it), and when. */
  started: { startDate: string; reachedAt: string } | null
  /** The termination date that was reached (EmployeeLeft recorded), and when; null once rehired. */
  left: { terminationDate: string; reachedAt: string } | null
  invite: { status: InviteStatus; dueAt?: string; invitedAt?: string }
  /** As decided by the last UserDeactivated / UserReactivated; null before either. */
  userActive: boolean | null
  /** Why the user was last deactivated; picks the reason of a later reactivation. */
  deactivationReason: DeactivationReason | null
  /**
   * A deactivation of this (active) user waiting on the mass-deactivation guard: deferred (the
   * guard has not looked yet), held (in an operator's hold) or discarded (kept active until the
   * next change from the HR system). The user stays active meanwhile. Absent in older states.
   */
  deactivationHold?: DeactivationHold | null
}

export interface DeactivationHold {
  status: 'deferred' | 'held' | 'discarded'
  reason: DeactivationReason
  holdId: string | null
  /** The record version (`changedAt`) it was decided on: any later change from the HR system ends it. */
  asOf: string
  /** When it was deferred (the guard decides at the latest this long after, however busy the pipeline). */
  deferredAt: string
}

/**
 * The guard's marker while it stands: decided on the current record version, for a user not yet
 * deactivated. A later change from the HR system makes it stale (a discard lasts "until the next
 * real change"; a held user's new change is decided again and goes back into its open hold).
 */
export function standingHold(state: EmployeeState): DeactivationHold | null {
  const hold = state.deactivationHold
  return hold && hold.asOf === state.changedAt && state.userActive !== false ? hold : null
}

function applyFact(state: EmployeeState, changedAt: string, fields: Record<string, unknown>): EmployeeState {
  const latest = isBefore(state.changedAt, changedAt) ? changedAt : state.changedAt
  return { ...state, changedAt: latest, record: { ...state.record, ...fields, changed_at: latest } }
}

export function evolveEmployee(state: EmployeeState | null, event: EmployeeEvent): EmployeeState | null {
  const { data } = event
  if (event.type === 'EmployeeImported') {
    return {
      tenant: data.tenant,
      employeeId: data.entityId,
      record: { ...event.data.snapshot },
      changedAt: data.changedAt,
      deleted: Boolean(event.data.snapshot.remote_deleted_at),
      started: state?.started ?? null,
      left: state?.left ?? null,
      invite: state?.invite ?? { status: 'none' },
      userActive: state?.userActive ?? null,
      deactivationReason: state?.deactivationReason ?? null,
    }
  }
  // Every other event needs the import first; a stream that starts elsewhere is ignored, not fatal.
  if (state === null) return null

  // Facts from the HR system with an event of their own (employee-facts.ts): copy their fields.
  const fields = fieldsOfEvent(event.type)
  if (fields) {
    const d = data as Record<string, unknown>
    const next = applyFact(state, data.changedAt, Object.fromEntries(fields.map((f) => [f, d[f] ?? null])))
    if (event.type === 'EmployeeLeaveDateChanged') return forgetRevokedLeaving(next)
    return next
  }

  switch (event.type) {
    case 'EmployeeDetailsChanged':
      return applyFact(state, data.changedAt, event.data.changes)
    case 'EmployeeDeletedInSource':
      return { ...applyFact(state, data.changedAt, { remote_deleted_at: event.data.remote_deleted_at }), deleted: true }
    case 'EmployeeRestoredInSource':
      return { ...applyFact(state, data.changedAt, { remote_deleted_at: null }), deleted: false, purged: false }
    case 'EmployeePurgedInSource':
      return { ...applyFact(state, data.changedAt, {}), purged: true }
    case 'EmployeeStarted': {
      // A start after the recorded leaving is a new employment: the leaving is history now.
      const rehired = state.left !== null && isBefore(state.left.terminationDate, event.data.on)
      return { ...state, started: { startDate: event.data.on, reachedAt: data.changedAt }, left: rehired ? null : state.left }
    }
    case 'EmployeeLeft':
      return { ...state, left: { terminationDate: event.data.on, reachedAt: data.changedAt } }
    case 'UserInviteScheduled':
      return { ...state, invite: { status: 'scheduled', dueAt: event.data.dueAt } }
    case 'UserInvited':
      return { ...state, invite: { ...state.invite, status: 'invited', invitedAt: data.changedAt } }
    case 'UserDeactivated':
      return { ...state, userActive: false, deactivationReason: event.data.reason, deactivationHold: null }
    case 'UserReactivated':
      return { ...state, userActive: true, deactivationReason: null, deactivationHold: null }
    case 'UserDeactivationDeferred':
      return { ...state, deactivationHold: { status: 'deferred', reason: event.data.reason, holdId: null, asOf: event.data.asOf, deferredAt: event.data.deferredAt } }
    case 'UserDeactivationHeld':
      return { ...state, deactivationHold: { status: 'held', reason: event.data.reason, holdId: event.data.holdId, asOf: event.data.asOf, deferredAt: state.deactivationHold?.deferredAt ?? data.changedAt } }
    case 'UserDeactivationDiscarded':
      return state.deactivationHold ? { ...state, deactivationHold: { ...state.deactivationHold, status: 'discarded' } } : state
    default:
      return state
  }
}

/**
 * A termination date changed after it was reached (moved or cancelled): the recorded leaving no
 * longer stands, so the new date may produce its own EmployeeLeft. Kept while a rehire is pending
 * (a start date after the leaving), because then the person is still out until that start.
 */
function forgetRevokedLeaving(state: EmployeeState): EmployeeState {
  if (!state.left) return state
  const term = state.record.termination_date
  if (typeof term === 'string' && term === state.left.terminationDate) return state
  const start = state.record.start_date
  if (typeof start === 'string' && isBefore(state.left.terminationDate, start)) return state
  return { ...state, left: null }
}

export function foldEmployee(events: Iterable<EmployeeEvent>): EmployeeState | null {
  let state: EmployeeState | null = null
  for (const event of events) state = evolveEmployee(state, event)
  return state
}
