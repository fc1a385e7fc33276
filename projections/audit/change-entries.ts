// From one recorded employee event and the employee's state before and after it to the readable
// audit entry: which Learn Amp user fields changed from what to what, when (HR and recorded time)
// and why. Pure. The kind of change follows the user feed's vocabulary (one source of truth for
// "what counts as a change of the user"), plus `UserActivated` for a first start date reached.
import { decidedAt, type RecordedEvent } from '../../processors/eventstore/port.ts'
import type { EmployeeState } from '../../processors/domain/employee-state.ts'
import { isPending, shownDeactivationReasonAt } from '../../processors/domain/employment.ts'
import type { ChangeCause, ChangeEntry, ChangeField, FieldChange } from '../../schemas/audit.ts'
import type { LearnAmpUserStatus } from '../../schemas/learnamp.ts'
import { parseStreamName } from '../../schemas/streams.ts'
import { toFeedUser, userFeedKindsOf } from '../user-feed/mapping.ts'
import { hrTimeOf } from './bitemporal.ts'

// Once per (immutable) state, as toFeedUser: the fold hands one event's `after` on as the next's `before`.
const fieldsOf = new WeakMap<EmployeeState, Partial<Record<ChangeField, unknown>>>()

const notOwnFields = new Set<string>(['externalId', 'managerExternalId', 'locationExternalId', 'teams'])

/** The snapshot as the change log names its fields: references by id, teams as a list of ids. */
function userFields(state: EmployeeState | null): Partial<Record<ChangeField, unknown>> {
  if (state === null) return {}
  let fields = fieldsOf.get(state)
  if (fields) return fields
  const snapshot = toFeedUser(state)
  // The snapshot's own fields in its order, then the references (a loop, not rest destructuring:
  // this runs once per employee event of a rebuild).
  const own: Record<string, unknown> = {}
  for (const key of Object.keys(snapshot) as Array<keyof typeof snapshot>) if (!notOwnFields.has(key)) own[key] = snapshot[key]
  fields = { ...own, manager: snapshot.managerExternalId, teams: snapshot.teams.map((t) => t.externalId), primaryLocation: snapshot.locationExternalId }
  fieldsOf.set(state, fields)
  return fields
}

/** `timeZone`: the tenant's, so the status agrees with the views (HR dates are local days). */
function statusAt(state: EmployeeState | null, at: Date, timeZone: string): LearnAmpUserStatus | null {
  if (state === null) return null
  return shownDeactivationReasonAt(state, at, timeZone) ? 'deactivated' : isPending(state, at, timeZone) ? 'pending' : 'active'
}

// Compared as JSON; two strings (most fields) directly, which is the same answer without the stringify.
const same = (a: unknown, b: unknown) => (typeof a === 'string' && typeof b === 'string' ? a === b : JSON.stringify(a ?? null) === JSON.stringify(b ?? null))

// The fields in the order of `before`'s keys, then `after`'s own (what a union of the two key lists
// gives), without building that union: this runs for every employee event of a rebuild.
function diff(before: Partial<Record<ChangeField, unknown>>, after: Partial<Record<ChangeField, unknown>>): FieldChange[] {
  const changes: FieldChange[] = []
  const add = (field: ChangeField) => {
    if (!same(before[field], after[field])) changes.push({ field, before: before[field] ?? null, after: after[field] ?? null })
  }
  for (const field of Object.keys(before) as ChangeField[]) add(field)
  for (const field of Object.keys(after) as ChangeField[]) if (!Object.hasOwn(before, field)) add(field)
  return changes
}

/**
 * Why the event was written, from its metadata: an explicit `cause` (set by writers that know
 * better, e.g. a hold release), else the clock, a manual command, or the poll that brought the record.
 */
export function causeOf(metadata: Record<string, unknown>): ChangeCause {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
  const explicit = metadata.cause as { kind?: unknown; actor?: unknown } | string | undefined
  const kind = typeof explicit === 'string' ? explicit : str(explicit?.kind)
  const actor = str(metadata.actor) ?? (typeof explicit === 'object' ? str(explicit?.actor) : undefined)
  const pollId = str(metadata.pollId)
  const withExtras = (c: ChangeCause): ChangeCause => ({ ...c, ...(actor && c.kind !== 'poll' && c.kind !== 'clock' ? { actor } : {}), ...(pollId ? { pollId } : {}) })
  if (kind === 'poll' || kind === 'webhook' || kind === 'clock' || kind === 'manual' || kind === 'hold-release') return withExtras({ kind })
  if (metadata.by === 'clock') return { kind: 'clock' }
  if (str(metadata.commandId) || actor) return withExtras({ kind: 'manual' })
  if (str(metadata.trigger) === 'webhook') return withExtras({ kind: 'webhook' })
  return withExtras({ kind: 'poll' })
}

/** The audit entry of one employee event, or null when it changes nothing a Learn Amp user shows. `timeZone`: the tenant's. */
export function changeEntryOf(recorded: RecordedEvent, before: EmployeeState | null, after: EmployeeState | null, timeZone: string): ChangeEntry | null {
  const stream = parseStreamName(recorded.streamName)
  if (!stream || stream.category !== 'employee' || after === null) return null
  const hrTime = hrTimeOf(recorded)
  const at = new Date(hrTime ?? decidedAt(recorded).getTime())
  const entry = (type: ChangeEntry['type'], changes: FieldChange[]): ChangeEntry => ({
    userId: stream.komboId,
    type,
    at: at.toISOString(),
    recordedAt: decidedAt(recorded).toISOString(),
    changes,
    cause: causeOf(recorded.metadata),
    eventId: recorded.id,
  })
  const status = (from: unknown, to: unknown): FieldChange[] => (same(from, to) ? [] : [{ field: 'status', before: from ?? null, after: to ?? null }])

  if (recorded.type === 'EmployeeStarted') {
    // A first start we saw coming (pending → active): the record we held predates the start date.
    // A rehire's start is followed by its own UserReactivated; a start long past at the import is
    // no change we observed (the user was created active).
    if (before === null || before.userActive === false || before.started !== null) return null
    if (hrTime === null || Date.parse(before.changedAt) >= hrTime) return null
    return entry('UserActivated', status('pending', 'active'))
  }
  const [kind] = userFeedKindsOf(recorded, before, after)
  if (!kind) return null
  const feed = { type: kind.type, dueAt: kind.extra?.dueAt }
  const data = recorded.data
  switch (feed.type) {
    case 'UserCreated':
      return entry('UserCreated', [...diff({}, userFields(after)), ...status(null, statusAt(after, at, timeZone))])
    case 'UserUpdated':
      return entry('UserUpdated', diff(userFields(before), userFields(after)))
    case 'UserDeactivated':
      return entry('UserDeactivated', [
        ...status(before?.userActive === false ? 'deactivated' : statusAt(before, new Date(at.getTime() - 1), timeZone) === 'pending' ? 'pending' : 'active', 'deactivated'),
        { field: 'deactivationReason', before: before?.deactivationReason ?? null, after: data.reason ?? null },
      ])
    case 'UserReactivated':
      return entry('UserReactivated', [...status('deactivated', 'active'), { field: 'deactivationReason', before: before?.deactivationReason ?? null, after: null }])
    case 'UserInvited':
      return entry('UserInvited', [{ field: 'invite', before: before?.invite.status ?? 'none', after: 'invited' }])
    case 'UserInviteDue':
      return entry('UserInviteDue', [
        ...(before?.invite.status === 'scheduled' ? [] : [{ field: 'invite' as const, before: before?.invite.status ?? 'none', after: 'scheduled' }]),
        { field: 'inviteDueAt', before: before?.invite.dueAt ?? null, after: feed.dueAt ?? null },
      ])
    case 'UserDeleted':
      return entry('UserDeleted', [{ field: 'deletedInSource', before: before?.deleted ?? false, after: true }])
    case 'UserRestored':
      return entry('UserRestored', [{ field: 'deletedInSource', before: before?.deleted ?? true, after: false }])
  }
}
