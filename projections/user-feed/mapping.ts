// From one recorded employee event (and the employee's state before and after it) to the feed
// events a downstream service sees. Pure: the publisher supplies the states.
//
// Clock facts (EmployeeStarted/Left) and fields Learn Amp does not show (custom fields, employment
// status …) publish nothing themselves; what they cause for the user (UserDeactivated …) is its
// own event in the stream and is published from there.
import { decidedAt, type RecordedEvent } from '../../processors/eventstore/port.ts'
import { namespaceBytes, namespacedId } from '../../processors/domain/event-ids.ts'
import { standingHold, type EmployeeState } from '../../processors/domain/employee-state.ts'
import { parseStreamName } from '../../schemas/streams.ts'
import type { UserFeedEvent, UserFeedEventType, UserFeedSnapshot } from '../../schemas/user-feed.ts'
import { ownFieldsOf } from '../mapping/learnamp-user.ts'
import { changedFeedFields } from './field-diff.ts'
import { feedTeamOf, locationOf, managerOf, teamGroupsOf } from './record-fields.ts'

/** Fixed namespace for feed event ids. Never change it: consumers dedupe on the ids it yields. */
export const USER_FEED_ID_NAMESPACE = '1fffb01a-59f8-4642-a393-f7a8950dd323'

const USER_FEED_ID_NAMESPACE_BYTES = namespaceBytes(USER_FEED_ID_NAMESPACE)

/** The same source event always yields the same feed event id (a re-send is recognisable). */
export const feedEventId = (sourceEventId: string, type: UserFeedEventType): string => namespacedId(`${sourceEventId}|${type}`, USER_FEED_ID_NAMESPACE_BYTES)

// States are immutable (evolveEmployee returns a new object for every change), so a state's snapshot
// is computed once. Only a published feed event carries one: which fields changed (here and in the
// change log) is read off the records by field-diff.ts. Callers must not modify the snapshot.
const snapshots = new WeakMap<EmployeeState, UserFeedSnapshot>()

/** The user as the employee's own record describes it (see UserFeedSnapshot). */
export function toFeedUser(state: EmployeeState): UserFeedSnapshot {
  let snapshot = snapshots.get(state)
  if (!snapshot) snapshots.set(state, (snapshot = snapshotOf(state)))
  return snapshot
}

function snapshotOf(state: EmployeeState): UserFeedSnapshot {
  const r = state.record
  return {
    ...ownFieldsOf(state),
    managerExternalId: managerOf(r),
    teams: teamGroupsOf(r).map(feedTeamOf),
    locationExternalId: locationOf(r),
  }
}

// Module-level, not a closure per call: the change log asks for the kind of every employee event of a rebuild.
const make = (type: UserFeedEventType, extra?: Partial<UserFeedEvent>) => ({ type, extra })

const isValidTime = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v))

export function toUserFeedEvents(recorded: RecordedEvent, before: EmployeeState | null, after: EmployeeState | null): UserFeedEvent[] {
  const stream = parseStreamName(recorded.streamName)
  // Not an employee, or a stream that never had its import: no user to speak of.
  if (!stream || stream.category !== 'employee' || after === null) return []
  const data = recorded.data
  return userFeedKindsOf(recorded, before, after).map(({ type, extra }): UserFeedEvent => ({
    eventId: feedEventId(recorded.id, type),
    type,
    tenant: stream.tenant,
    userId: stream.komboId,
    occurredAt: isValidTime(data.changedAt) ? new Date(data.changedAt).toISOString() : decidedAt(recorded).toISOString(),
    sourceEventId: recorded.id,
    sourcePosition: recorded.position.toString(),
    user: toFeedUser(after),
    ...extra,
  }))
}

/**
 * Which feed events an employee event yields (their types and own fields), without building them:
 * the change log needs only the kind of change, not the ids and times of a feed event.
 */
export function userFeedKindsOf(recorded: RecordedEvent, before: EmployeeState | null, after: EmployeeState): Array<{ type: UserFeedEventType; extra?: Partial<UserFeedEvent> }> {
  const data = recorded.data
  switch (recorded.type) {
    case 'EmployeeStarted':
    case 'EmployeeLeft':
      return []
    case 'EmployeeDeletedInSource':
      // Deferred by the mass-deactivation guard: announced with the deactivation, when it is applied.
      return standingHold(after) ? [] : [make('UserDeleted')]
    case 'EmployeeRestoredInSource':
      return [make('UserRestored')]
    case 'EmployeePurgedInSource':
      return [] // Kombo nulled a deleted record; the user keeps its last known values
    case 'UserInviteScheduled':
      return isValidTime(data.dueAt) ? [make('UserInviteDue', { dueAt: new Date(data.dueAt).toISOString() })] : []
    case 'UserInvited':
      return [make('UserInvited', { invitedBy: data.by === 'manual' ? 'manual' : 'policy' })]
    case 'UserDeactivated':
      // A deletion the guard deferred is announced now, with the deactivation it caused.
      if (before && standingHold(before) && data.reason === 'deleted_in_source') return [make('UserDeleted'), make('UserDeactivated', { reason: String(data.reason) })]
      return [make(recorded.type, { reason: String(data.reason) })]
    case 'UserReactivated':
      return [make(recorded.type, { reason: String(data.reason) })]
    default: {
      // EmployeeImported and every fact from the HR system.
      if (before === null) return recorded.type === 'EmployeeImported' ? [make('UserCreated')] : []
      // Compared field by field off the two records, without building either snapshot (field-diff.ts).
      const fields = changedFeedFields(before, after)
      return fields.length > 0 ? [make('UserUpdated', { changedFields: fields })] : []
    }
  }
}
