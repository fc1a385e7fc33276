// Tenant-wide reads and writes on the views, for the operator API: the tenant's folded employee
// states (an invite-policy dry run decides on them), counts, the employees an offboarding erases,
// and the re-decision of invites after a policy change (the clock picks up what is due).
import type { SqlQueryable } from '../../sql/database.ts'
import type { EmployeeState } from '../../processors/domain/employee-state.ts'

/** Every employee state of the tenant the projector folded (erased employees are gone). */
export async function employeeStatesOf(db: SqlQueryable, tenant: string): Promise<EmployeeState[]> {
  const { rows } = await db.query<{ state: unknown }>("SELECT state FROM view_entity_states WHERE tenant = $1 AND category = 'employee' ORDER BY id", [tenant])
  return rows.map((r) => (typeof r.state === 'string' ? JSON.parse(r.state) : r.state) as EmployeeState)
}

/**
 * Makes the clock look at every employee of the tenant who is not invited yet at its next tick,
 * so they are decided again under the tenant's new invite policy (or time zone). Nobody invited is
 * touched, so nobody is un-invited. Returns how many were marked.
 */
export async function markUninvitedEmployeesDue(db: SqlQueryable, tenant: string, at: Date): Promise<number> {
  const { rows } = await db.query(
    `UPDATE view_entity_states SET next_due_at = $2
     WHERE tenant = $1 AND category = 'employee' AND coalesce(state->'invite'->>'status', 'none') <> 'invited'
     RETURNING id`,
    [tenant, at.toISOString()],
  )
  return rows.length
}

/** Users per status, and teams and locations, of one tenant. */
export async function tenantViewCounts(db: SqlQueryable, tenant: string): Promise<{ users: Record<string, number>; teams: number; locations: number }> {
  const [users, teams, locations] = await Promise.all([
    db.query<{ status: string; n: string | number }>('SELECT status, count(*) AS n FROM view_users WHERE tenant = $1 GROUP BY status', [tenant]),
    db.query<{ n: string | number }>('SELECT count(*) AS n FROM view_teams WHERE tenant = $1', [tenant]),
    db.query<{ n: string | number }>('SELECT count(*) AS n FROM view_locations WHERE tenant = $1', [tenant]),
  ])
  const byStatus: Record<string, number> = { pending: 0, active: 0, deactivated: 0 }
  for (const r of users.rows) byStatus[r.status] = Number(r.n)
  return { users: byStatus, teams: Number(teams.rows[0]?.n ?? 0), locations: Number(locations.rows[0]?.n ?? 0) }
}

/**
 * Every employee the tenant ever had that is not erased yet: those in the views, and those with a
 * personal-data key (an employee whose events were never projected still has one).
 */
export async function unerasedEmployeeIdsOf(db: SqlQueryable, tenant: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM view_entity_states WHERE tenant = $1 AND category = 'employee'
     UNION SELECT employee_id AS id FROM personal_data_keys WHERE tenant = $1 AND erased_at IS NULL
     ORDER BY id`,
    [tenant],
  )
  return rows.map((r) => r.id)
}
