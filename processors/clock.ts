// The clock: a command handler that emits the lifecycle events that become due with time alone
// (start date reached, leave date reached, invite due) for employees whose next date has passed,
// then snoozes each until its next date. Deciding is idempotent, so running twice, or at the same
// time as the processor, appends nothing twice. An employee whose stream kept changing under every
// try is not snoozed (it stays due for the next tick) and is reported in the tick's result.
// With the mass-deactivation guard, the tick also gathers every deferred deactivation per tenant and
// lets the guard apply or hold them together (processors/mass-deactivation/guard.ts says why here).
import type { EventStore } from './eventstore/port.ts'
import { employeeDecider } from './domain/employee.ts'
import { nextDueAt } from './domain/next-due.ts'
import { employeeStreamName } from '../schemas/streams.ts'
import type { TenantSettings } from '../schemas/tenant.ts'
import { handleCommand, isConcurrencyConflict, retryOnConflict } from './commands/handle-command.ts'
import { decideTenantRound, type Deferred, type MassDeactivationGuardDeps, type TenantRoundOutcome } from './mass-deactivation/guard.ts'
import { deferredReason } from './mass-deactivation/decisions.ts'

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
  /** The mass-deactivation guard; without it deferred deactivations are applied at the tick, unguarded. */
  massDeactivation?: MassDeactivationGuardDeps
}

/** A concurrent append is retried on the reloaded stream; 10 tries in all, as before. */
export const CLOCK_RETRY = retryOnConflict(9)

export interface ClockTickResult {
  /** Events appended in this tick. */
  appended: number
  /** Employees the clock gave up on in this tick (still due: the next tick tries again). */
  gaveUp: Array<{ tenant: string; employeeId: string; reason: string }>
  /** What the mass-deactivation guard did per tenant with deferred deactivations. */
  rounds: Array<{ tenant: string } & TenantRoundOutcome>
}

/** One tick: handles every employee due at `now`. */
export async function runClockTick(deps: ClockDeps): Promise<ClockTickResult> {
  const now = deps.now()
  const result: ClockTickResult = { appended: 0, gaveUp: [], rounds: [] }
  const givenUp = new Set<string>()
  const deferred = new Map<string, Deferred[]>()
  for (;;) {
    // An employee given up on stays due: a page of nothing else ends the tick instead of looping.
    const due = (await deps.views.dueEmployees(now, deps.batchSize ?? 200)).filter(({ tenant, id }) => !givenUp.has(`${tenant}\u0000${id}`))
    if (due.length === 0) break
    for (const { tenant, id } of due) {
      try {
        result.appended += await tickEmployee(deps, tenant, id, now, deferred)
      } catch (err) {
        if (!isConcurrencyConflict(err)) throw err
        givenUp.add(`${tenant}\u0000${id}`)
        result.gaveUp.push({ tenant, employeeId: id, reason: (err as Error).message })
      }
    }
  }
  for (const [tenant, users] of deferred) {
    const guard = deps.massDeactivation ?? unguarded
    result.rounds.push({ tenant, ...(await decideTenantRound({ ...guard, store: deps.store, views: deps.views }, tenant, deps.tenantSettingsOf(tenant), users, now)) })
  }
  return result
}

/** No guard: nothing is held, nothing waits (deferred deactivations are applied at the tick). */
const unguarded: MassDeactivationGuardDeps = {
  holds: { create: () => Promise.reject(new Error('no hold store')), get: async () => null, list: async () => [], decide: async () => null, openCounts: async () => new Map() },
  activeUsers: async () => Number.MAX_SAFE_INTEGER,
  roundSettled: async () => true,
}

async function tickEmployee(deps: ClockDeps, tenant: string, id: string, now: Date, deferred: Map<string, Deferred[]>): Promise<number> {
  const settings = deps.tenantSettingsOf(tenant)
  const { newState, newEvents } = await handleCommand(
    deps.store,
    employeeStreamName(tenant, id),
    employeeDecider,
    // No state (erased, or never imported) or no settings (tenant removed): nothing to decide.
    (state) =>
      state && settings
        ? employeeDecider.decide({ type: 'ReachDates', context: { tenant, now, invitePolicy: settings.invitePolicy, timeZone: settings.timeZone, deferDeactivations: deps.massDeactivation !== undefined && settings.massDeactivation.enabled } }, state)
        : [],
    { retry: CLOCK_RETRY, metadata: { decidedAt: now.toISOString(), by: 'clock' } },
  )
  if (newState && deferredReason(newState)) {
    // For the guard, after every due employee was seen. Snoozed just past this tick's instant so
    // the pages move on; a crash before the guard decides leaves it due for the next tick.
    deferred.set(tenant, [...(deferred.get(tenant) ?? []), { id, state: newState }])
    await deps.views.setNextDueAt(tenant, id, new Date(now.getTime() + 1))
    return newEvents.length
  }
  // Snooze until the next date; the projector recomputes this too when the events arrive.
  await deps.views.setNextDueAt(tenant, id, newState && settings ? nextDueAt(newState, now, settings.timeZone) : null)
  return newEvents.length
}
