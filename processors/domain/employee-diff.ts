// The facts a new Kombo employee record adds to what we knew: one event per meaningful change.
import type { EmployeeEvent } from '../../schemas/events.ts'
import type { KomboEmployee } from '../../schemas/kombo.ts'
import type { EmployeeState } from './employee-state.ts'
import { changedFields, deepEqual, isBefore, isPurgedRecord } from './record-diff.ts'
import { dedicatedFields, fieldEventRows } from './employee-facts.ts'

type FactType = Exclude<
  EmployeeEvent['type'],
  'EmployeeStarted' | 'EmployeeLeft' | 'UserInviteScheduled' | 'UserInvited' | 'UserDeactivated' | 'UserReactivated'
>
export type EmployeeFactEvent = Extract<EmployeeEvent, { type: FactType }>

/** Identity and versioning fields are not changes; deletion has its own events. */
const notDetails = new Set(['id', 'changed_at', 'remote_deleted_at', ...dedicatedFields])

/** Teams are a set: order and extra attributes of the embedded groups do not make a change. */
function groupKeys(groups: unknown): string[] {
  if (!Array.isArray(groups)) return []
  return groups
    .map((g) => {
      const r = (g ?? {}) as Record<string, unknown>
      return JSON.stringify([r.id ?? null, r.name ?? null, r.type ?? null])
    })
    .sort()
}

export function fieldEqual(key: string, a: unknown, b: unknown): boolean {
  return key === 'groups' ? deepEqual(groupKeys(a), groupKeys(b)) : deepEqual(a, b)
}

/** The record as the domain compares it: what a snapshot and a fold must agree on. */
export function comparableEmployeeRecord(record: Record<string, unknown>): Record<string, unknown> {
  const { changed_at: _ignored, ...rest } = record
  return { ...rest, groups: groupKeys(record.groups) }
}

/** Facts the record adds; [] when it is older than, or identical to, what the state holds. */
export function diffEmployeeRecord(state: EmployeeState | null, record: KomboEmployee, tenant: string): EmployeeFactEvent[] {
  const base = { tenant, entityId: record.id, changedAt: record.changed_at }
  if (state === null) return [{ type: 'EmployeeImported', data: { ...base, snapshot: { ...record } } }]
  if (isBefore(record.changed_at, state.changedAt)) return []

  const before = state.record
  const after = record as Record<string, unknown>
  const events: EmployeeFactEvent[] = []

  const wasDeleted = Boolean(before.remote_deleted_at)
  const isDeleted = Boolean(after.remote_deleted_at)
  if (isPurgedRecord(after)) {
    // Kombo nulled a deleted record's fields: keep what we knew, record the purge once.
    if (!wasDeleted) events.push({ type: 'EmployeeDeletedInSource', data: { ...base, remote_deleted_at: String(after.remote_deleted_at) } })
    if (!state.purged) events.push({ type: 'EmployeePurgedInSource', data: { ...base, remote_deleted_at: String(after.remote_deleted_at) } })
    return events
  }
  if (wasDeleted && !isDeleted) events.push({ type: 'EmployeeRestoredInSource', data: base })

  for (const [type, fields] of fieldEventRows) {
    if (fields.every((f) => fieldEqual(f, before[f], after[f]))) continue
    const values = Object.fromEntries(fields.map((f) => [f, f === 'groups' ? (after[f] ?? []) : (after[f] ?? null)]))
    events.push({ type, data: { ...base, ...values } } as EmployeeFactEvent)
  }

  const details = changedFields(before, after, notDetails, fieldEqual)
  // A new deletion timestamp on a record already deleted is a detail, not a second deletion.
  if (wasDeleted && isDeleted && !deepEqual(before.remote_deleted_at, after.remote_deleted_at)) {
    details.remote_deleted_at = after.remote_deleted_at
  }
  if (Object.keys(details).length > 0) events.push({ type: 'EmployeeDetailsChanged', data: { ...base, changes: details } })

  if (!wasDeleted && isDeleted) {
    events.push({ type: 'EmployeeDeletedInSource', data: { ...base, remote_deleted_at: String(after.remote_deleted_at) } })
  }
  return events
}
