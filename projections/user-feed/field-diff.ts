// Which of a user's fields differ between two states of one employee, read straight off the two
// records instead of building a snapshot of each state and comparing the snapshots. The change log
// asks this for every employee event of a rebuild (1M events: 1M snapshots and field maps were
// ~20 % of the rebuild's CPU, and much of its garbage). Two shortcuts, both exact:
//  - a field is a pure function of a few record keys (`sources`); when every one of them holds the
//    same value in both records (states are immutable and a fact copies the record with the few
//    keys it sets, so untouched keys hold the very same values), the field is the same and its
//    value is not built at all;
//  - otherwise the two values are built and compared: strings and nulls with ===, teams element by
//    element, which is what comparing them as JSON answered.
// Equal, for every pair of states, to comparing `toFeedUser` snapshots (user feed) and the change
// log's field maps built from them (projections/user-feed/field-diff.test.ts checks both against
// those definitions). The own fields and their source keys are `ownUserFields`, the table
// `ownFieldsOf` itself is built from (projections/mapping/learnamp-user.ts).
import type { EmployeeState } from '../../processors/domain/employee-state.ts'
import type { FieldChange } from '../../schemas/audit.ts'
import type { UserFeedField } from '../../schemas/user-feed.ts'
import { ownUserFields } from '../mapping/learnamp-user.ts'

import { groupsOf, locationOf, managerOf, str, teamGroupsOf, type EmployeeRecord as Rec } from './record-fields.ts'

/** The groups with an id, as the snapshot's teams keep them. */
function teamIdsOf(r: Rec): string[] {
  const ids: string[] = []
  for (const g of groupsOf(r)) {
    const id = str(g?.id)
    if (id) ids.push(id)
  }
  return ids
}

const unchanged = (a: Rec, b: Rec, sources: readonly string[]) => {
  for (const key of sources) if (a[key] !== b[key]) return false
  return true
}

function sameIds(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** The snapshots' teams ({ externalId, name, type } of every group with an id) compared in order. */
function sameFeedTeams(a: Rec, b: Rec): boolean {
  const x = teamGroupsOf(a)
  const y = teamGroupsOf(b)
  if (x.length !== y.length) return false
  for (let i = 0; i < x.length; i++) {
    const g = x[i]
    const h = y[i]
    if (g.id !== h.id || str(g.name) !== str(h.name) || str(g.type) !== str(h.type)) return false
  }
  return true
}

/** `changedFields(toFeedUser(before), toFeedUser(after))`: the feed snapshot's fields that differ, in the snapshot's order. */
export function changedFeedFields(before: EmployeeState, after: EmployeeState): UserFeedField[] {
  const a = before.record
  const b = after.record
  const changed: UserFeedField[] = []
  if (before.employeeId !== after.employeeId) changed.push('externalId')
  for (const f of ownUserFields) if (!unchanged(a, b, f.sources) && f.value(a) !== f.value(b)) changed.push(f.field)
  if (a.manager_id !== b.manager_id && managerOf(a) !== managerOf(b)) changed.push('managerExternalId')
  if (a.groups !== b.groups && !sameFeedTeams(a, b)) changed.push('teams')
  if (a.work_location_id !== b.work_location_id && locationOf(a) !== locationOf(b)) changed.push('locationExternalId')
  return changed
}

/**
 * The change log's field changes between two states (its fields: the own fields, then `manager`,
 * `teams` as a list of ids and `primaryLocation`), in that order; `before` null: a created user,
 * every field that is not null (teams always, empty or not: the change log lists them).
 */
export function changedUserFields(before: EmployeeState | null, after: EmployeeState): FieldChange[] {
  const b = after.record
  const a = before?.record
  const changes: FieldChange[] = []
  for (const f of ownUserFields) {
    if (a && unchanged(a, b, f.sources)) continue
    const from = a ? f.value(a) : null
    const to = f.value(b)
    if (from !== to) changes.push({ field: f.field, before: from, after: to })
  }
  if (!a || a.manager_id !== b.manager_id) {
    const from = a ? managerOf(a) : null
    const to = managerOf(b)
    if (from !== to) changes.push({ field: 'manager', before: from, after: to })
  }
  if (!a || a.groups !== b.groups) {
    const from = a ? teamIdsOf(a) : null
    const to = teamIdsOf(b)
    if (from === null || !sameIds(from, to)) changes.push({ field: 'teams', before: from, after: to })
  }
  if (!a || a.work_location_id !== b.work_location_id) {
    const from = a ? locationOf(a) : null
    const to = locationOf(b)
    if (from !== to) changes.push({ field: 'primaryLocation', before: from, after: to })
  }
  return changes
}
