// Removes an erased employee from the views: their user row, folded state and change-log entries go, and the users
// they manage keep the manager's id but no longer their name. Runs in the transaction that erases
// the employee's key (processors/commands/erase-employee.ts), so the views never serve personal
// data whose key is gone; afterwards the projector (which reads through the decrypting store) no
// longer sees that employee's events.
import type { SqlDatabase, SqlQueryable } from '../../sql/database.ts'
import { purgeUserChanges } from '../audit/change-log-store.ts'

export async function purgeUserFromViewsIn(tx: SqlQueryable, tenant: string, externalId: string): Promise<void> {
  await tx.query('DELETE FROM view_users WHERE tenant = $1 AND external_id = $2', [tenant, externalId])
  await purgeUserChanges(tx, tenant, externalId)
  await tx.query("DELETE FROM view_entity_states WHERE tenant = $1 AND category = 'employee' AND id = $2", [tenant, externalId])
  await tx.query(
    `UPDATE view_users SET doc = jsonb_set(doc, '{manager,displayName}', 'null'::jsonb)
     WHERE tenant = $1 AND manager_id = $2 AND doc->'manager' IS NOT NULL AND jsonb_typeof(doc->'manager') = 'object'`,
    [tenant, externalId],
  )
}

/** The purge in a transaction of its own (views purged again after a source deletion, tests). */
export async function purgeUserFromViews(db: SqlDatabase, tenant: string, externalId: string): Promise<void> {
  await db.transaction((tx) => purgeUserFromViewsIn(tx, tenant, externalId))
}
