// The tenant's erasure audit stream (`erasure-{tenant}`): one EmployeePersonalDataErased per
// erasure, whatever the retries. Its state is the erasures already recorded, so deciding again on a
// stream that holds the record adds nothing (on top of the deterministic id, which the store
// dedupes as well).
import { EmployeePersonalDataErased } from '../../schemas/erasure.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import type { Decider, WithId } from './decider.ts'
import { eventId } from './event-ids.ts'

export type ErasureAudit = EmployeePersonalDataErased['data']
/** `employeeId|erasedAt` of every erasure recorded in the stream. */
export type ErasureAuditState = ReadonlySet<string>

export interface RecordErasure {
  type: 'RecordErasure'
  audit: ErasureAudit
}

const erasureKey = (a: Pick<ErasureAudit, 'employeeId' | 'erasedAt'>) => `${a.employeeId}|${a.erasedAt}`

export const erasureAuditDecider: Decider<ErasureAuditState, RecordErasure, EmployeePersonalDataErased> = {
  decide({ audit }, state) {
    if (state.has(erasureKey(audit))) return []
    const event = EmployeePersonalDataErased.parse({ type: 'EmployeePersonalDataErased', data: audit })
    // The id is derived from the erasure itself (stream of the employee + instant of the erasure).
    const id = eventId(audit.tenant, employeeStreamName(audit.tenant, audit.employeeId), audit.erasedAt, 'erased')
    return [{ ...event, id } satisfies WithId<EmployeePersonalDataErased>]
  },
  evolve(state, event) {
    return event.type === 'EmployeePersonalDataErased' ? new Set([...state, erasureKey(event.data)]) : state
  },
  initialState: () => new Set(),
}
