// From what we know about an employee to the Learn Amp user it should be, per the field mapping in
// DESIGN.md. Pure: related entities come in through lookups, time through `asOf` and the tenant's
// time zone (HR dates are calendar days in it).
import type { LearnAmpTeamRef, LearnAmpUser, LearnAmpUserIssue } from '../../schemas/learnamp.ts'
import { isPending, shownDeactivationReasonAt, type EmployeeState } from '../../processors/domain/index.ts'

export interface ResolvedRef {
  id: string
  name: string | null
  deleted: boolean
}

export interface LearnAmpUserLookups {
  team(id: string): ResolvedRef | undefined
  location(id: string): ResolvedRef | undefined
  employee(id: string): EmployeeState | undefined
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)

/** Kombo's display name, else first and last name; null when the record has none of them. */
export function displayNameOf(record: Record<string, unknown>): string | null {
  const display = str(record.display_full_name)
  if (display) return display
  const joined = [str(record.first_name), str(record.last_name)].filter(Boolean).join(' ')
  return joined || null
}

const groupTypes = new Set(['DEPARTMENT', 'TEAM', 'COST_CENTER'])

function teamsOf(record: Record<string, unknown>, lookups: LearnAmpUserLookups, issues: Set<LearnAmpUserIssue>): LearnAmpTeamRef[] {
  const groups = Array.isArray(record.groups) ? (record.groups as Record<string, unknown>[]) : []
  const teams: LearnAmpTeamRef[] = []
  for (const group of groups) {
    const id = str(group?.id)
    if (!id) continue
    const known = lookups.team(id)
    // The team view may lag behind the employee; the embedded group still names it.
    if (known?.deleted) {
      issues.add('team_not_found')
      continue
    }
    const type = groupTypes.has(group.type as string) ? (group.type as LearnAmpTeamRef['type']) : null
    teams.push({ externalId: id, name: known?.name ?? str(group.name), type })
  }
  return teams
}

/** The employee's team: the first TEAM, else the first DEPARTMENT, else the first group. */
function primaryTeamOf(teams: LearnAmpTeamRef[]): LearnAmpTeamRef | null {
  return teams.find((t) => t.type === 'TEAM') ?? teams.find((t) => t.type === 'DEPARTMENT') ?? teams[0] ?? null
}

type EmployeeRecord = Record<string, unknown>

/**
 * The user fields read straight off the employee's own record (no lookups, no time), in the
 * order users and feed snapshots list them, each with the record keys it is computed from and
 * nothing else: the change log and the feed (projections/user-feed/field-diff.ts) skip a field
 * whose source keys hold the same values in two states without computing it.
 */
export const ownUserFields = [
  { field: 'remoteId', sources: ['remote_id'], value: (r: EmployeeRecord) => str(r.remote_id) },
  { field: 'employeeNumber', sources: ['employee_number'], value: (r: EmployeeRecord) => str(r.employee_number) },
  { field: 'firstName', sources: ['first_name'], value: (r: EmployeeRecord) => str(r.first_name) },
  { field: 'lastName', sources: ['last_name'], value: (r: EmployeeRecord) => str(r.last_name) },
  { field: 'displayName', sources: ['display_full_name', 'first_name', 'last_name'], value: (r: EmployeeRecord) => displayNameOf(r) },
  { field: 'jobTitle', sources: ['job_title'], value: (r: EmployeeRecord) => str(r.job_title) },
  { field: 'email', sources: ['work_email'], value: (r: EmployeeRecord) => str(typeof r.work_email === 'string' ? r.work_email.trim() : null) },
  { field: 'hireDate', sources: ['start_date'], value: (r: EmployeeRecord) => str(r.start_date) },
  { field: 'leaveDate', sources: ['termination_date'], value: (r: EmployeeRecord) => str(r.termination_date) },
  { field: 'avatar', sources: ['avatar'], value: (r: EmployeeRecord) => str(r.avatar) },
  { field: 'legalEntityId', sources: ['legal_entity_id'], value: (r: EmployeeRecord) => str(r.legal_entity_id) },
  { field: 'employmentType', sources: ['employment_type'], value: (r: EmployeeRecord) => str(r.employment_type) },
] as const satisfies ReadonlyArray<{ field: string; sources: readonly string[]; value(r: EmployeeRecord): string | null }>

export type OwnUserField = (typeof ownUserFields)[number]['field']

/** The employee's id and its `ownUserFields`, in that order. */
export function ownFieldsOf(state: EmployeeState): { externalId: string } & Record<OwnUserField, string | null> {
  const own = { externalId: state.employeeId } as { externalId: string } & Record<OwnUserField, string | null>
  for (const f of ownUserFields) own[f.field] = f.value(state.record)
  return own
}

/**
 * What a report's user shows of its manager's state: her display name, or null when there is no
 * such employee (never seen, or deleted: the report then carries `manager_not_found`).
 */
export function shownAsManager(state: EmployeeState | null | undefined): { displayName: string | null } | null {
  return state && !state.deleted ? { displayName: displayNameOf(state.record) } : null
}

export function toLearnAmpUser(state: EmployeeState, lookups: LearnAmpUserLookups, asOf: Date, timeZone: string): LearnAmpUser {
  const r = state.record
  const issues = new Set<LearnAmpUserIssue>()
  const own = ownFieldsOf(state)
  if (!own.email) issues.add('missing_work_email')

  let manager: LearnAmpUser['manager'] = null
  const managerId = str(r.manager_id)
  if (managerId) {
    const shown = shownAsManager(lookups.employee(managerId))
    if (shown) manager = { externalId: managerId, displayName: shown.displayName }
    else issues.add('manager_not_found')
  }

  let primaryLocation: LearnAmpUser['primaryLocation'] = null
  const locationId = str(r.work_location_id)
  if (locationId) {
    const found = lookups.location(locationId)
    if (found && !found.deleted) primaryLocation = { externalId: locationId, name: found.name }
    else issues.add('location_not_found')
  }

  const teams = teamsOf(r, lookups, issues)
  // The mass-deactivation guard keeps a held user active (processors/mass-deactivation/).
  const deactivationReason = shownDeactivationReasonAt(state, asOf, timeZone)
  const status = deactivationReason ? 'deactivated' : isPending(state, asOf, timeZone) ? 'pending' : 'active'

  return {
    ...own,
    manager,
    primaryTeam: primaryTeamOf(teams),
    teams,
    primaryLocation,
    status,
    deactivationReason,
    invite: { status: state.invite.status, dueAt: state.invite.dueAt ?? null, invitedAt: state.invite.invitedAt ?? null },
    issues: [...issues],
  }
}

/**
 * Flags every user whose email (case-insensitive) another of the given users also has, and clears
 * the flag of those who no longer share it. Both are reported; which one is right is for the
 * customer to fix in the HR system, not for us to guess. Returns new objects; the input is kept.
 */
export function findDuplicateEmails(users: readonly LearnAmpUser[]): LearnAmpUser[] {
  const counts = new Map<string, number>()
  const key = (u: LearnAmpUser) => u.email?.trim().toLowerCase() || null
  for (const u of users) {
    const k = key(u)
    if (k) counts.set(k, (counts.get(k) ?? 0) + 1)
  }
  return users.map((u) => {
    const k = key(u)
    const duplicate = k !== null && (counts.get(k) ?? 0) > 1
    const flagged = u.issues.includes('duplicate_work_email')
    if (duplicate === flagged) return u
    return { ...u, issues: duplicate ? [...u.issues, 'duplicate_work_email'] : u.issues.filter((i) => i !== 'duplicate_work_email') }
  })
}
