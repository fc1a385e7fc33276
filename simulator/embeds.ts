// The expanded relations Kombo embeds in a record (`employee.manager`, `employee.work_location`,
// `absence.type`, …), in the shapes of Kombo's API reference and `@kombo-api/sdk`. Each embed is
// built from the current record it points at, so a rename can be propagated by rebuilding it.
import type { SimRecord } from './generate-company.ts'

export function embedGroup(group: SimRecord): Record<string, unknown> {
  return { id: group.id, name: group.name, type: group.type, remote_id: group.remote_id }
}

/** Embedded groups for membership of `groupIds`: each team plus its department, once each. */
export function embedMemberships(groupIds: string[], groupsById: Map<string, SimRecord>): Record<string, unknown>[] {
  const seen = new Set<string>()
  const out: Record<string, unknown>[] = []
  for (const id of groupIds) {
    const group = groupsById.get(id)
    if (!group) throw new RangeError(`unknown group ${id}`)
    for (const g of [group, groupsById.get(String(group.parent_id))]) {
      if (g && !seen.has(g.id)) {
        seen.add(g.id)
        out.push(embedGroup(g))
      }
    }
  }
  return out
}

/** `employee.work_location`: the location record itself (Kombo embeds it whole, timestamps included). */
export function embedLocation(location: SimRecord | undefined): Record<string, unknown> | null {
  return location
    ? { id: location.id, remote_id: location.remote_id, name: location.name, address: location.address, type: location.type, changed_at: location.changed_at, remote_deleted_at: location.remote_deleted_at }
    : null
}

export function embedLegalEntity(entity: SimRecord | undefined): Record<string, unknown> | null {
  return entity ? { id: entity.id, remote_id: entity.remote_id, name: entity.name, address: entity.address } : null
}

/** The fields of the manager's own record that Kombo repeats in `employee.manager`. */
export const managerEmbedFields = [
  'first_name',
  'last_name',
  'display_full_name',
  'employee_number',
  'work_email',
  'remote_id',
  'employment_status',
  'termination_date',
] as const

export function embedManager(manager: SimRecord | undefined): Record<string, unknown> | null {
  if (!manager) return null
  const embed: Record<string, unknown> = { id: manager.id }
  for (const field of managerEmbedFields) embed[field] = manager[field] ?? null
  return embed
}

/** `absence.type`: the absence type record. */
export function embedAbsenceType(type: SimRecord | undefined): Record<string, unknown> | null {
  return type
    ? {
        id: type.id,
        remote_id: type.remote_id,
        name: type.name,
        unit: type.unit,
        half_days_supported: type.half_days_supported,
        exact_times_supported: type.exact_times_supported,
        changed_at: type.changed_at,
        remote_deleted_at: type.remote_deleted_at,
      }
    : null
}
