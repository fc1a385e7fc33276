// The clock: emits the lifecycle events that become due with time alone (start date reached,
// leave date reached, invite due) for employees whose next date has passed. Deciding is
// idempotent, so running twice, or at the same time as the processor, appends nothing twice.
import { WrongExpectedRevisionError, type EventStore } from '../processors/eventstore/port.ts'
import { decideEmployeeClockEvents } from '../processors/domain/employee.ts'
import { foldEmployee, evolveEmployee } from '../processors/domain/employee-state.ts'
import type { EmployeeEvent } from '../schemas/events.ts'
import { employeeStreamName } from '../schemas/streams.ts'
import type { TenantSettings } from '../schemas/tenant.ts'
import type { ViewWriter } from './viewstore/port.ts'
import { nextDueAt } from './next-due.ts'

export interface ClockDeps {
  store: EventStore
  views: Pick<ViewWriter, 'dueEmployees' | 'setNextDueAt'>
  tenantSettingsOf: (tenant: string) => TenantSettings | undefined
  now: () => Date
  batchSize?: number
}

/** One tick: handles every employee due at `now`. Returns the number of events appended. */
export async function runClockTick(deps: ClockDeps): Promise<number> {
  const now = deps.now()
  let appended = 0
  for (;;) {
    const due = await deps.views.dueEmployees(now, deps.batchSize ?? 200)
    if (due.length === 0) return appended
    for (const { tenant, id } of due) appended += await tickEmployee(deps, tenant, id, now)
  }
}

async function tickEmployee(deps: ClockDeps, tenant: string, id: string, now: Date): Promise<number> {
  const settings = deps.tenantSettingsOf(tenant)
  const stream = employeeStreamName(tenant, id)
  for (let attempt = 0; attempt < 10; attempt++) {
    const history = await deps.store.readStream(stream)
    let state = foldEmployee(history.map((e) => ({ type: e.type, data: e.data }) as EmployeeEvent))
    if (!state || !settings) {
      await deps.views.setNextDueAt(tenant, id, null)
      return 0
    }
    const decided = decideEmployeeClockEvents(state, { tenant, now, invitePolicy: settings.invitePolicy, timeZone: settings.timeZone })
    if (decided.length > 0) {
      try {
        await deps.store.appendToStream(
          stream,
          decided.map((e) => ({ id: e.id, type: e.type, data: e.data as Record<string, unknown>, metadata: { decidedAt: now.toISOString(), by: 'clock' } })),
          { expectedRevision: history[history.length - 1].revision },
        )
      } catch (err) {
        if (err instanceof WrongExpectedRevisionError) continue
        throw err
      }
      for (const e of decided) state = evolveEmployee(state, e as EmployeeEvent) ?? state
    }
    // Snooze until the next date; the projector recomputes this too when the events arrive.
    await deps.views.setNextDueAt(tenant, id, nextDueAt(state, now, settings.timeZone))
    return decided.length
  }
  return 0
}
