// How the user feed's snapshot and the change log read a user's manager, location and teams off
// the employee's record: one reading, so the snapshot (mapping.ts) and the field diff that must
// agree with it (field-diff.ts) cannot drift apart.
export type EmployeeRecord = Record<string, unknown>

/** A non-empty string, else null (the record's optional ids and names). */
export const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)

export const managerOf = (r: EmployeeRecord): string | null => str(r.manager_id)
export const locationOf = (r: EmployeeRecord): string | null => str(r.work_location_id)

/** The record's groups as stored (entries may be null or lack an id). */
export const groupsOf = (r: EmployeeRecord): Array<Record<string, unknown> | null> => (Array.isArray(r.groups) ? (r.groups as Array<Record<string, unknown> | null>) : [])

/** The user's teams: the groups with an id, in the record's order. */
export const teamGroupsOf = (r: EmployeeRecord): Array<Record<string, unknown>> => groupsOf(r).filter((g): g is Record<string, unknown> => str(g?.id) !== null)

/** One team as the feed's snapshot carries it. */
export const feedTeamOf = (g: Record<string, unknown>) => ({ externalId: g.id as string, name: str(g.name), type: str(g.type) })
