// GDPR erasure of one employee (crypto-shredding): delete the employee stream's key, so every event
// of it is unreadable in any store and backup, and purge the views IN THE SAME TRANSACTION (keys and
// views share the SQL database), so the read API never serves personal data whose key is gone;
// then audit the erasure (no personal data) in the tenant's erasure stream. A failure before the
// commit leaves key and views as they were; a failure after it (the audit) is completed by running
// the command again, which finds the key erased, purges again (harmless) and records the one audit
// event of that erasure. The processor consults the same key table and drops later records of the
// employee.
import type { EventStore } from '../eventstore/port.ts'
import type { PersonalDataKeys } from '../eventstore/personal-data-keys.ts'
import type { SqlQueryable } from '../../sql/database.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import { EmployeePersonalDataErased, erasureStreamName } from '../../schemas/erasure.ts'
import { erasureAuditDecider } from '../domain/erasure.ts'
import { handleCommand, retryOnConflict } from './handle-command.ts'
import { KomboSyncError } from '../../errors/kombo-sync-error.ts'

export interface EraseEmployeeDeps {
  /** The raw or the decrypting store: only the audit stream (never encrypted) is written. */
  store: EventStore
  keys: PersonalDataKeys
  /** Removes the employee from the views, inside the transaction that erases the key. */
  purgeViews(tx: SqlQueryable, tenant: string, employeeId: string): Promise<void>
}

export interface EraseEmployeeCommand {
  tenant: string
  employeeId: string
  reason: string
  actor: string
}

/** The tenant never had this employee: nothing to erase. Not retriable. */
export class EmployeeNotFoundError extends KomboSyncError {
  override name = 'EmployeeNotFoundError'
  readonly retriable = false
  constructor(readonly tenant: string, readonly employeeId: string) {
    super(`tenant ${tenant} has no employee ${employeeId}`)
  }
}

/** Erasures of one tenant share its audit stream: a concurrent one is retried on the reloaded stream. */
export const ERASURE_AUDIT_RETRY = retryOnConflict(5)

export async function eraseEmployee(deps: EraseEmployeeDeps, command: EraseEmployeeCommand) {
  const { tenant, employeeId } = command
  const stream = employeeStreamName(tenant, employeeId)
  const owner = { tenant, employeeId }
  const states = await deps.keys.statesOf([stream])
  if (!states.has(stream)) {
    // No key yet: either unknown, or only plaintext events from before encryption was on.
    const events = await deps.store.readStream(stream, { maxCount: 1 })
    if (events.length === 0) throw new EmployeeNotFoundError(tenant, employeeId)
  }
  const { erasedAt, alreadyErased } = await deps.keys.erase(stream, owner, { together: (tx) => deps.purgeViews(tx, tenant, employeeId) })
  const audit = EmployeePersonalDataErased.shape.data.parse({ tenant, employeeId, reason: command.reason, actor: command.actor, erasedAt: erasedAt.toISOString() })
  await handleCommand(
    deps.store,
    erasureStreamName(tenant),
    erasureAuditDecider,
    (state) => erasureAuditDecider.decide({ type: 'RecordErasure', audit }, state),
    { retry: ERASURE_AUDIT_RETRY, metadata: { decidedAt: audit.erasedAt } },
  )
  return { tenant, employeeId, erasedAt: audit.erasedAt, alreadyErased }
}

/** The audit records of a tenant's erasures, oldest first. */
export async function listErasures(store: EventStore, tenant: string): Promise<EmployeePersonalDataErased['data'][]> {
  return (await store.readStream(erasureStreamName(tenant))).map((e) => EmployeePersonalDataErased.shape.data.parse(e.data))
}
