// Writes employee histories straight into an event store (decide on the folded stream, append with
// the expected revision), for tests of what reads the store: the user feed, projections.
import type { EventStore } from '../../processors/eventstore/port.ts'
import { decideEmployeeEvents, employeeDecider, foldEvents } from '../../processors/domain/index.ts'
import type { InvitePolicy } from '../../schemas/invite-policy.ts'
import type { KomboEmployee } from '../../schemas/kombo.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import { anEmployee, later } from './kombo-fixtures.ts'

export async function recordEmployee(store: EventStore, tenant: string, record: KomboEmployee, now: Date, invitePolicy: InvitePolicy = { mode: 'immediate' }, timeZone = 'UTC'): Promise<number> {
  const stream = employeeStreamName(tenant, record.id)
  const history = await store.readStream(stream)
  const state = foldEvents(employeeDecider, history)
  const decided = decideEmployeeEvents(state, record, { tenant, now, invitePolicy, timeZone })
  if (decided.length === 0) return 0
  await store.appendToStream(
    stream,
    decided.map((e) => ({ id: e.id, type: e.type, data: e.data as Record<string, unknown> })),
    { expectedRevision: history.length ? history[history.length - 1].revision : 'no_stream' },
  )
  return decided.length
}

/**
 * One phase of a small company's life: phase 0 hires `employees` people (invited at once), later
 * phases change job titles and managers, and phase 2 deletes every fifth person in the HR system.
 */
export async function companyPhase(store: EventStore, tenant: string, phase: number, employees: number): Promise<void> {
  const now = new Date(Date.parse(later(phase * 10)) + 60_000)
  for (let i = 0; i < employees; i++) {
    const deleted = phase >= 2 && i % 5 === 0
    await recordEmployee(
      store,
      tenant,
      anEmployee({
        id: `emp-${i}`,
        work_email: `p${i}@example.test`,
        changed_at: later(phase * 10),
        job_title: `Title ${i} v${phase}`,
        manager_id: phase > 0 && i > 0 ? `emp-${(i + phase) % employees}` : null,
        remote_deleted_at: deleted ? later(20) : null,
      }),
      now,
    )
  }
}
