// Records of erased employees (GDPR) are dropped before processing, so an employee still present
// in the HR system is not imported again with their personal data. Each drop is reported to the
// caller (logged with tenant and employee id only, and counted), never dead-lettered: the dead-letter
// store would keep the personal data the erasure removed.
import type { ConsumedChange } from '../producers/changelog/port.ts'
import type { PersonalDataKeys } from './eventstore/personal-data-keys.ts'

/** `tenant:komboId` of an employee change; null for other resources or odd keys. */
function employeeOf(change: ConsumedChange): { tenant: string; employeeId: string } | null {
  if (change.resource !== 'employees') return null
  const at = change.key.indexOf(':')
  return at > 0 ? { tenant: change.key.slice(0, at), employeeId: change.key.slice(at + 1) } : null
}

export async function dropErasedEmployees(
  batch: ConsumedChange[],
  keys: Pick<PersonalDataKeys, 'erasedAmong'>,
): Promise<{ kept: ConsumedChange[]; dropped: Array<{ tenant: string; employeeId: string }> }> {
  const byTenant = new Map<string, string[]>()
  for (const c of batch) {
    const who = employeeOf(c)
    if (who) byTenant.set(who.tenant, [...(byTenant.get(who.tenant) ?? []), who.employeeId])
  }
  if (byTenant.size === 0) return { kept: batch, dropped: [] }
  const erased = new Set<string>()
  for (const [tenant, ids] of byTenant) for (const id of await keys.erasedAmong(tenant, ids)) erased.add(`${tenant}:${id}`)
  const kept: ConsumedChange[] = []
  const dropped: Array<{ tenant: string; employeeId: string }> = []
  for (const c of batch) {
    const who = employeeOf(c)
    if (who && erased.has(`${who.tenant}:${who.employeeId}`)) dropped.push(who)
    else kept.push(c)
  }
  return { kept, dropped }
}
