// GDPR erasure of one employee (crypto-shredding): delete the employee stream's key, so every event
// of it is unreadable in any store and backup; audit the erasure (no personal data) in the tenant's
// erasure stream; purge the views. Idempotent: running it again completes whatever a failed run
// left undone. The processor consults the same key table and drops later records of the employee.
import { v5 as uuidv5 } from 'uuid'
import { EVENT_ID_NAMESPACE } from '../domain/event-ids.ts'
import type { EventStore } from '../eventstore/port.ts'
import type { PersonalDataKeys } from '../eventstore/personal-data-keys.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import { EmployeePersonalDataErased, erasureStreamName } from '../../schemas/erasure.ts'
import { KomboSyncError } from '../../errors/kombo-sync-error.ts'

export interface EraseEmployeeDeps {
  /** The raw or the decrypting store: only the audit stream (never encrypted) is written. */
  store: EventStore
  keys: PersonalDataKeys
  purgeViews(tenant: string, employeeId: string): Promise<void>
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
  const { erasedAt, alreadyErased } = await deps.keys.erase(stream, owner)
  const audit = EmployeePersonalDataErased.parse({
    type: 'EmployeePersonalDataErased',
    data: { tenant, employeeId, reason: command.reason, actor: command.actor, erasedAt: erasedAt.toISOString() },
  })
  // One audit event per erasure, whatever the retries: the id is derived from the erasure itself.
  await deps.store.appendToStream(erasureStreamName(tenant), [
    { id: uuidv5(`${tenant}|${stream}|${audit.data.erasedAt}|erased`, EVENT_ID_NAMESPACE), type: audit.type, data: audit.data, metadata: { decidedAt: audit.data.erasedAt } },
  ])
  await deps.purgeViews(tenant, employeeId)
  return { tenant, employeeId, erasedAt: audit.data.erasedAt, alreadyErased }
}

/** The audit records of a tenant's erasures, oldest first. */
export async function listErasures(store: EventStore, tenant: string): Promise<EmployeePersonalDataErased['data'][]> {
  return (await store.readStream(erasureStreamName(tenant))).map((e) => EmployeePersonalDataErased.shape.data.parse(e.data))
}
