// From one recorded employee event and the employee's state before and after it to the readable
// audit entry: which Learn Amp user fields changed from what to what, when (HR and recorded time)
// and why. Pure. The kind of change follows the user feed's vocabulary (one source of truth for
// "what counts as a change of the user"), plus `UserActivated` for a first start date reached.
import { decidedAt, type RecordedEvent } from '../../processors/eventstore/port.ts'
import type { EmployeeState } from '../../processors/domain/employee-state.ts'
import { isPending, shownDeactivationReasonAt } from '../../processors/domain/employment.ts'
import type { ChangeCause, ChangeEntry, FieldChange } from '../../schemas/audit.ts'
import type { LearnAmpUserStatus } from '../../schemas/learnamp.ts'
import { parseStreamName } from '../../schemas/streams.ts'
import { userFeedKindsOf } from '../user-feed/mapping.ts'
import { changedUserFields } from '../user-feed/field-diff.ts'
import { hrTimeOf } from './bitemporal.ts'

/** `timeZone`: the tenant's, so the status agrees with the views (HR dates are local days). */
function statusAt(state: EmployeeState | null, at: Date, timeZone: string): LearnAmpUserStatus | null {
  if (state === null) return null
  return shownDeactivationReasonAt(state, at, timeZone) ? 'deactivated' : isPending(state, at, timeZone) ? 'pending' : 'active'
}

// The status's values: strings or null (undefined counts as null).
const same = (a: unknown, b: unknown) => (a ?? null) === (b ?? null)
const statusChange = (from: unknown, to: unknown): FieldChange[] => (same(from, to) ? [] : [{ field: 'status', before: from ?? null, after: to ?? null }])

/**
 * Why the event was written, from its metadata: an explicit `cause` (set by writers that know
 * better, e.g. a hold release), else the clock, a manual command, or the poll that brought the record.
 */
export function causeOf(metadata: Record<string, unknown>): ChangeCause {
  const explicit = metadata.cause as { kind?: unknown; actor?: unknown } | string | undefined
  const kind = typeof explicit === 'string' ? explicit : nonEmpty(explicit?.kind)
  const actor = nonEmpty(metadata.actor) ?? (typeof explicit === 'object' ? nonEmpty(explicit?.actor) : undefined)
  const pollId = nonEmpty(metadata.pollId)
  if (kind === 'poll' || kind === 'webhook' || kind === 'clock' || kind === 'manual' || kind === 'hold-release') return withExtras(kind, actor, pollId)
  if (metadata.by === 'clock') return { kind: 'clock' }
  if (nonEmpty(metadata.commandId) || actor) return withExtras('manual', actor, pollId)
  if (nonEmpty(metadata.trigger) === 'webhook') return withExtras('webhook', actor, pollId)
  return withExtras('poll', actor, pollId)
}

const nonEmpty = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)

/** `{ kind, actor?, pollId? }` in that order; the actor of a person's doing only (not of a poll or the clock). */
function withExtras(kind: ChangeCause['kind'], actor: string | undefined, pollId: string | undefined): ChangeCause {
  const cause: ChangeCause = { kind }
  if (actor && kind !== 'poll' && kind !== 'clock') cause.actor = actor
  if (pollId) cause.pollId = pollId
  return cause
}

/**
 * The audit entry of one employee event, or null when it changes nothing a Learn Amp user shows. `timeZone`: the tenant's.
 * (No closures made per call: this runs for every employee event of a rebuild.)
 */
export function changeEntryOf(recorded: RecordedEvent, before: EmployeeState | null, after: EmployeeState | null, timeZone: string): ChangeEntry | null {
  const stream = parseStreamName(recorded.streamName)
  if (!stream || stream.category !== 'employee' || after === null) return null
  const recordedAt = decidedAt(recorded)
  const hrTime = hrTimeOf(recorded)
  const at = hrTime === null ? recordedAt : new Date(hrTime)
  const change = changeOf(recorded, before, after, hrTime, at, timeZone)
  if (change === null) return null
  return {
    userId: stream.komboId,
    type: change.type,
    at: at.toISOString(),
    recordedAt: recordedAt.toISOString(),
    changes: change.changes,
    cause: causeOf(recorded.metadata),
    eventId: recorded.id,
  }
}

/** The kind of an employee event's entry and its field changes; null: no entry. */
function changeOf(recorded: RecordedEvent, before: EmployeeState | null, after: EmployeeState, hrTime: number | null, at: Date, timeZone: string): { type: ChangeEntry['type']; changes: FieldChange[] } | null {
  if (recorded.type === 'EmployeeStarted') {
    // A first start we saw coming (pending → active): the record we held predates the start date.
    // A rehire's start is followed by its own UserReactivated; a start long past at the import is
    // no change we observed (the user was created active).
    if (before === null || before.userActive === false || before.started !== null) return null
    if (hrTime === null || Date.parse(before.changedAt) >= hrTime) return null
    return { type: 'UserActivated', changes: statusChange('pending', 'active') }
  }
  const [kind] = userFeedKindsOf(recorded, before, after)
  if (!kind) return null
  const data = recorded.data
  switch (kind.type) {
    case 'UserCreated':
      return { type: 'UserCreated', changes: [...changedUserFields(null, after), ...statusChange(null, statusAt(after, at, timeZone))] }
    case 'UserUpdated':
      return { type: 'UserUpdated', changes: changedUserFields(before, after) }
    case 'UserDeactivated':
      return {
        type: 'UserDeactivated',
        changes: [
          ...statusChange(before?.userActive === false ? 'deactivated' : statusAt(before, new Date(at.getTime() - 1), timeZone) === 'pending' ? 'pending' : 'active', 'deactivated'),
          { field: 'deactivationReason', before: before?.deactivationReason ?? null, after: data.reason ?? null },
        ],
      }
    case 'UserReactivated':
      return { type: 'UserReactivated', changes: [...statusChange('deactivated', 'active'), { field: 'deactivationReason', before: before?.deactivationReason ?? null, after: null }] }
    case 'UserInvited':
      return { type: 'UserInvited', changes: [{ field: 'invite', before: before?.invite.status ?? 'none', after: 'invited' }] }
    case 'UserInviteDue':
      return {
        type: 'UserInviteDue',
        changes: [
          ...(before?.invite.status === 'scheduled' ? [] : [{ field: 'invite' as const, before: before?.invite.status ?? 'none', after: 'scheduled' }]),
          { field: 'inviteDueAt', before: before?.invite.dueAt ?? null, after: kind.extra?.dueAt ?? null },
        ],
      }
    case 'UserDeleted':
      return { type: 'UserDeleted', changes: [{ field: 'deletedInSource', before: before?.deleted ?? false, after: true }] }
    case 'UserRestored':
      return { type: 'UserRestored', changes: [{ field: 'deletedInSource', before: before?.deleted ?? true, after: false }] }
  }
}
