// The clock: a command handler that emits the lifecycle events that become due with time alone
// (start date reached, leave date reached, invite due) for employees whose next date has passed,
// then snoozes each until its next date. Deciding is idempotent, so running twice, or at the same
// time as the processor, appends nothing twice. An employee whose stream kept changing under every
// try is not snoozed (it stays due for the next tick) and is reported in the tick's result.
import type { EventStore } from './eventstore/port.ts'
import { employeeDecider } from './domain/employee.ts'
import { nextDueAt } from './domain/next-due.ts'
import { employeeStreamName } from '../schemas/streams.ts'
import type { TenantSettings } from '../schemas/tenant.ts'
import { handleCommand, isConcurrencyConflict, retryOnConflict } from './commands/handle-command.ts'

/** Which employees are due, and their snooze: the part of the view store the clock uses. */
export interface ClockSchedule {
  dueEmployees(now: Date, limit: number): Promise<Array<{ tenant: string; id: string }>>
  setNextDueAt(tenant: string, id: string, at: Date | null): Promise<void>
}

export interface ClockDeps {
  store: EventStore
  views: ClockSchedule
  tenantSettingsOf: (tenant: string) => TenantSettings | undefined
  now: () => Date
  batchSize?: number
}

/** A concurrent append is retried on the reloaded stream; 10 tries in all, as before. */
export const CLOCK_RETRY = retryOnConflict(9)

export interface ClockTickResult {
  /** Events appended in this tick. */
  appended: number
  /** Employees the clock gave up on in this tick (still due: the next tick tries again). */
  gaveUp: Array<{ tenant: string; employeeId: string; reason: string }>
}

/** One tick: handles every employee due at `now`. */
export async function runClockTick(deps: ClockDeps): Promise<ClockTickResult> {
  const now = deps.now()
  const result: ClockTickResult = { appended: 0, gaveUp: [] }
  const givenUp = new Set<string>()
  for (;;) {
    // An employee given up on stays due: a page of nothing else ends the tick instead of looping.
    const due = (await deps.views.dueEmployees(now, deps.batchSize ?? 200)).filter(({ tenant, id }) => !givenUp.has(`${tenant}\u0000${id}`))
    if (due.length === 0) return result
    for (const { tenant, id } of due) {
      try {
        result.appended += await tickEmployee(deps, tenant, id, now)
      } catch (err) {
        if (!isConcurrencyConflict(err)) throw err
        givenUp.add(`${tenant}\u0000${id}`)
        result.gaveUp.push({ tenant, employeeId: id, reason: (err as Error).message })
      }
    }
  }
}

async function tickEmployee(deps: ClockDeps, tenant: string, id: string, now: Date): Promise<number> {
  const settings = deps.tenantSettingsOf(tenant)
  const { newState, newEvents } = await handleCommand(
    deps.store,
    employeeStreamName(tenant, id),
    employeeDecider,
    // No state (erased, or never imported) or no settings (tenant removed): nothing to decide.
    (state) =>
      state && settings
        ? employeeDecider.decide({ type: 'ReachDates', context: { tenant, now, invitePolicy: settings.invitePolicy, timeZone: settings.timeZone } }, state)
        : [],
    { retry: CLOCK_RETRY, metadata: { decidedAt: now.toISOString(), by: 'clock' } },
  )
  // Snooze until the next date; the projector recomputes this too when the events arrive.
  await deps.views.setNextDueAt(tenant, id, newState && settings ? nextDueAt(newState, now, settings.timeZone) : null)
  return newEvents.length
}
