// Employee decisions: which events a new Kombo record, the passing of time, or a manual invite
// command add to an employee's stream. Pure functions of (state, input, now); the processor and the
// clock stage do the I/O around them.
import type { EmployeeEvent } from '../../schemas/events.ts'
import type { KomboEmployee } from '../../schemas/kombo.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import { diffEmployeeRecord } from './employee-diff.ts'
import { evolveEmployee, standingHold, type DeactivationReason, type EmployeeState } from './employee-state.ts'
import { dateField, deactivationReasonAt, hasLeft, instantOf, inviteDueIso, isoInstant, startReached, terminationReached } from './employment.ts'
import { accessBeginsAt, accessEndsAt } from './hr-dates.ts'
import { eventId } from './event-ids.ts'
import type { Decider, DecisionContext, ObserveRecord } from './decider.ts'
import { KomboSyncError } from '../../errors/kombo-sync-error.ts'

export { evolveEmployee, foldEmployee, type EmployeeState } from './employee-state.ts'

/** An event ready to append: its id is deterministic (see event-ids.ts). */
export type DecidedEvent = EmployeeEvent & { id: string }

export type EmployeeDecisionContext = DecisionContext

export type InviteRefusal = 'unknown_employee' | 'already_invited' | 'deleted_in_source' | 'deactivated' | 'missing_work_email'

/** A manual invite that cannot be carried out; retrying will not help until the employee's data changes. */
export class InviteNotAllowedError extends KomboSyncError {
  override readonly name = 'InviteNotAllowedError'
  readonly retriable = false
  constructor(
    readonly tenant: string,
    readonly employeeId: string,
    readonly reason: InviteRefusal,
  ) {
    super(`Employee ${employeeId} of tenant ${tenant} cannot be invited: ${reason.replaceAll('_', ' ')}`)
  }
}

interface Pending {
  event: EmployeeEvent
  sourceVersion: string
}

function withIds(tenant: string, employeeId: string, pending: Pending[]): DecidedEvent[] {
  const stream = employeeStreamName(tenant, employeeId)
  return pending.map(({ event, sourceVersion }) => ({ ...event, id: eventId(tenant, stream, sourceVersion, event.type) }))
}

/** Why nobody may invite this employee right now, or null when an invite is possible. */
function inviteRefusal(state: EmployeeState, now: Date, timeZone: string): InviteRefusal | null {
  if (state.invite.status === 'invited') return 'already_invited'
  if (state.deleted) return 'deleted_in_source'
  if (state.userActive === false || deactivationReasonAt(state, now, timeZone) !== null) return 'deactivated'
  const email = state.record.work_email
  if (typeof email !== 'string' || email.trim() === '') return 'missing_work_email'
  return null
}

const reactivationReason: Record<DeactivationReason, 'active' | 'restored_in_source'> = {
  deleted_in_source: 'restored_in_source',
  left: 'active', // the termination was moved or cancelled; a rehire is recognised by its EmployeeStarted
  inactive: 'active',
}

/**
 * What follows from the state at `now`: dates reached, the user's activation, and invites. Shared by
 * the record decision (after its facts are folded in) and the clock. Each event is folded in before
 * the next is decided, so a second call on the result returns nothing.
 */
function decideConsequences(initial: EmployeeState, ctx: EmployeeDecisionContext & { firstSight?: boolean }): Pending[] {
  const { now, invitePolicy, timeZone } = ctx
  const out: Pending[] = []
  let state = initial
  // Qualified by the source version: a date reached again after a correction is a new decision.
  const emit = (event: EmployeeEvent, trigger: string) => {
    out.push({ event, sourceVersion: `${initial.changedAt}>${trigger}` })
    state = evolveEmployee(state, event) as EmployeeState
  }
  const base = { tenant: ctx.tenant, entityId: initial.employeeId }
  const start = dateField(state.record, 'start_date')
  const term = dateField(state.record, 'termination_date')

  // Dates reached. A start counts once, unless it comes after a recorded leaving (a rehire); a
  // corrected start date of someone who already started is no new start.
  let startedNow = false
  const rehire = start !== null && state.left !== null && instantOf(start) > instantOf(state.left.terminationDate)
  if (start && startReached(start, now, timeZone) && state.started?.startDate !== start && (state.started === null || rehire)) {
    emit({ type: 'EmployeeStarted', data: { ...base, changedAt: isoInstant(accessBeginsAt(start, timeZone)), on: start } }, `started:${start}`)
    startedNow = true
  }
  // `changedAt` of a date reached is the instant it took effect: 00:00 local on the start date, and
  // 00:00 local on the day after the last day.
  if (term && terminationReached(term, now, timeZone) && hasLeft(state, now, timeZone) && state.left?.terminationDate !== term) {
    emit({ type: 'EmployeeLeft', data: { ...base, changedAt: isoInstant(accessEndsAt(term, timeZone)), on: term } }, `left:${term}`)
  }

  // The Learn Amp user follows whether the employee should be active.
  const reason = deactivationReasonAt(state, now, timeZone)
  if (reason !== null && state.userActive !== false) {
    const changedAt = reason === 'left' && state.left ? state.left.reachedAt : state.changedAt
    // An active user's deactivation waits for the mass-deactivation guard (processors/mass-deactivation/);
    // one already deferred, held or discarded is the guard's (or an operator's) to decide.
    if (standingHold(state)?.reason === reason) {
      // nothing: the guard (or an operator) decides
    } else if (ctx.deferDeactivations && !ctx.firstSight) {
      const data = { ...base, changedAt, reason, asOf: state.changedAt, deferredAt: now.toISOString() }
      emit({ type: 'UserDeactivationDeferred', data }, `deactivated:${reason}:${changedAt}`)
    } else {
      emit({ type: 'UserDeactivated', data: { ...base, changedAt, reason } }, `deactivated:${reason}:${changedAt}`)
    }
  } else if (reason === null && state.userActive === false) {
    const why = startedNow ? 'rehired' : reactivationReason[state.deactivationReason ?? 'inactive']
    const changedAt = startedNow && state.started ? state.started.reachedAt : state.changedAt
    emit({ type: 'UserReactivated', data: { ...base, changedAt, reason: why } }, `reactivated:${why}:${changedAt}`)
  }

  // Invites, per the tenant's policy; never for a user who may not be invited.
  if (inviteRefusal(state, now, timeZone) === null) {
    if (invitePolicy.mode === 'immediate') {
      emit({ type: 'UserInvited', data: { ...base, changedAt: state.changedAt, by: 'policy', actor: null } }, 'invited')
    } else if (invitePolicy.mode === 'on_start_date' && start) {
      const dueAt = inviteDueIso(start, invitePolicy.daysBefore, timeZone)
      if (Date.parse(dueAt) <= now.getTime()) {
        emit({ type: 'UserInvited', data: { ...base, changedAt: dueAt, by: 'policy', actor: null } }, `invited:${dueAt}`)
      } else if (!(state.invite.status === 'scheduled' && state.invite.dueAt === dueAt)) {
        const data = { ...base, changedAt: state.changedAt, dueAt, policy: 'on_start_date' as const }
        emit({ type: 'UserInviteScheduled', data }, `scheduled:${dueAt}`)
      }
    }
  }
  return out
}

/**
 * Events a Kombo employee record adds to the stream: nothing for an older or identical record, the
 * import on first sight, else one event per meaningful change; then what follows from it at `now`.
 */
export function decideEmployeeEvents(state: EmployeeState | null, record: KomboEmployee, ctx: EmployeeDecisionContext): DecidedEvent[] {
  const facts = diffEmployeeRecord(state, record, ctx.tenant)
  if (facts.length === 0) return []
  let next = state
  for (const fact of facts) next = evolveEmployee(next, fact)
  const pending: Pending[] = facts.map((event) => ({ event, sourceVersion: record.changed_at }))
  // An employee seen for the first time was never an active user: nothing to guard.
  const consequences = next ? decideConsequences(next, { ...ctx, firstSight: state === null }) : []
  // A deferred deactivation goes before the facts that cause it, so that whoever reads the stream
  // event by event (the user feed, the change log) knows at the fact already that the user stays
  // active for now (nothing is announced for a held user until the hold is released).
  const deferred = consequences.filter((p) => p.event.type === 'UserDeactivationDeferred')
  return withIds(ctx.tenant, record.id, [...deferred, ...pending, ...consequences.filter((p) => !deferred.includes(p))])
}

/** What the clock adds when dates are reached with no new record; [] when nothing is due. */
export function decideEmployeeClockEvents(state: EmployeeState | null, ctx: EmployeeDecisionContext): DecidedEvent[] {
  if (state === null) return []
  return withIds(ctx.tenant, state.employeeId, decideConsequences(state, ctx))
}

/** A person asked for this employee to be invited now, whatever the policy. */
export function decideManualInvite(
  state: EmployeeState | null,
  ctx: Omit<EmployeeDecisionContext, 'invitePolicy'> & { employeeId?: string; commandId: string; actor: string },
): DecidedEvent[] {
  if (state === null) throw new InviteNotAllowedError(ctx.tenant, ctx.employeeId ?? 'unknown', 'unknown_employee')
  const refusal = inviteRefusal(state, ctx.now, ctx.timeZone)
  if (refusal !== null) throw new InviteNotAllowedError(ctx.tenant, state.employeeId, refusal)
  const data = { tenant: ctx.tenant, entityId: state.employeeId, changedAt: ctx.now.toISOString(), by: 'manual' as const, actor: ctx.actor }
  return withIds(ctx.tenant, state.employeeId, [{ event: { type: 'UserInvited', data }, sourceVersion: `command:${ctx.commandId}` }])
}

/** What can be asked of an employee stream. */
export type EmployeeCommand =
  | ObserveRecord<KomboEmployee>
  /** Time passed: whatever dates were reached since the last decision (the clock). */
  | { type: 'ReachDates'; context: EmployeeDecisionContext }
  /** A person asked for the employee to be invited now (POST …/users/:id/invite). */
  | { type: 'InviteManually'; context: Parameters<typeof decideManualInvite>[1] }

/** The employee stream's decider: its three decisions behind one `decide`. */
export const employeeDecider: Decider<EmployeeState | null, EmployeeCommand, EmployeeEvent> = {
  decide(command, state) {
    switch (command.type) {
      case 'ObserveRecord':
        return decideEmployeeEvents(state, command.record, command.context)
      case 'ReachDates':
        return decideEmployeeClockEvents(state, command.context)
      case 'InviteManually':
        return decideManualInvite(state, command.context)
      default:
        return unknownCommand(command)
    }
  },
  evolve: evolveEmployee,
  initialState: () => null,
}

function unknownCommand(command: never): never {
  throw new TypeError(`employee streams do not handle command ${(command as { type?: unknown }).type}`)
}
