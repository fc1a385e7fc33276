// The mass-deactivation guard (issue 15), after Microsoft Entra's accidental-deletion threshold:
// when one round would deactivate more of a tenant's active users than its threshold, nothing of
// that round is deactivated; the round is held for an operator.
//
// WHY the clock decides, and not the processor: the records of one poll round reach the processor
// spread over change-log partitions, batches and (with roles apart) processes, so no batch knows
// whether its round is large. So every deactivation of an active user is first deferred, in the
// stream, with the facts that cause it (UserDeactivationDeferred; the user stays active in the
// views and the feed). The clock tick gathers every deferred deactivation of a tenant and decides
// them together, once the tenant's round is complete (no employees poll running, nothing left for
// the processor: `roundSettled`) or, however busy the pipeline, `maxWaitMs` after the oldest was
// deferred. Below the threshold they are applied (UserDeactivated, as they would have been at
// once); above it they join one hold. Everything is in the event streams and one hold row, written
// before its users' events: a restart in the middle is picked up by the next tick (a deferred user
// named by an open hold goes back into it), and every event id is deterministic.
import { employeeStreamName } from '../../schemas/streams.ts'
import type { MassDeactivationThreshold, TenantSettings } from '../../schemas/tenant.ts'
import { v5 as uuidv5 } from 'uuid'
import { EVENT_ID_NAMESPACE } from '../domain/event-ids.ts'
import { employeeDecider, type EmployeeState } from '../domain/employee.ts'
import { standingHold } from '../domain/employee-state.ts'
import { nextDueAt } from '../domain/next-due.ts'
import { handleCommand, retryOnConflict } from '../commands/handle-command.ts'
import type { EventStore } from '../eventstore/port.ts'
import type { HoldStore } from './hold-store.ts'
import { applyDeferred, holdDeferred } from './decisions.ts'

export interface MassDeactivationGuardDeps {
  holds: HoldStore
  /** Active users of the tenant as the views show them (held and deferred users count as active). */
  activeUsers(tenant: string): Promise<number>
  /** The tenant's latest round is complete: no employees poll running, no change record left unprocessed. */
  roundSettled(tenant: string): Promise<boolean>
  /** Decide at the latest this long after the oldest deferral, settled or not (default 15 minutes). */
  maxWaitMs?: number
}

export const DEFAULT_GUARD_MAX_WAIT_MS = 15 * 60_000

/** An employee whose deactivation is deferred, as the clock found them. */
export interface Deferred {
  id: string
  state: EmployeeState
}

export interface GuardStores {
  store: EventStore
  views: { setNextDueAt(tenant: string, id: string, at: Date | null): Promise<void> }
}

export type TenantRoundOutcome = { kind: 'waiting' } | { kind: 'applied'; users: number } | { kind: 'held'; holdId: string; users: number; rejoined: number }

const RETRY = retryOnConflict(9)

/** True when `n` deactivations out of `active` users exceed the threshold (both of its bounds). */
export function exceedsThreshold(n: number, active: number, t: MassDeactivationThreshold): boolean {
  return t.enabled && n >= t.minUsers && n * 100 > active * t.percent
}

/** The same users of the same tenant make the same hold id (a retried tick creates no second hold). */
export const holdIdOf = (tenant: string, users: readonly string[]) => `hold-${uuidv5(`${tenant}|${[...users].sort().join(',')}`, EVENT_ID_NAMESPACE).slice(0, 18)}`

/** Decides one tenant's deferred deactivations of this tick. */
export async function decideTenantRound(
  deps: MassDeactivationGuardDeps & GuardStores,
  tenant: string,
  settings: TenantSettings | undefined,
  deferred: Deferred[],
  now: Date,
): Promise<TenantRoundOutcome> {
  const timeZone = settings?.timeZone ?? 'UTC'
  const step = async (id: string, decide: (s: EmployeeState | null) => ReturnType<typeof applyDeferred>, metadata: Record<string, unknown>) => {
    const { newState } = await handleCommand(deps.store, employeeStreamName(tenant, id), employeeDecider, decide, { retry: RETRY, metadata: { decidedAt: now.toISOString(), ...metadata } })
    await deps.views.setNextDueAt(tenant, id, newState ? nextDueAt(newState, now, timeZone) : null)
  }
  // A deferred user an open hold already names (a restart between the hold and its events, or a
  // held user whose record changed) goes back into that hold: never out of it by a smaller round.
  const open = await deps.holds.list(tenant, 'open')
  const holdOf = new Map(open.flatMap((h) => h.users.map((u) => [u, h.id] as const)))
  const rejoin = deferred.filter((d) => holdOf.has(d.id))
  for (const d of rejoin) await step(d.id, (s) => holdDeferred(s, holdOf.get(d.id)!, now), { by: 'mass-deactivation-guard' })
  const fresh = deferred.filter((d) => !holdOf.has(d.id))
  if (fresh.length === 0) return rejoin.length ? { kind: 'held', holdId: holdOf.get(rejoin[0].id)!, users: 0, rejoined: rejoin.length } : { kind: 'applied', users: 0 }

  const oldest = Math.min(...fresh.map((d) => Date.parse(standingHold(d.state)?.deferredAt ?? now.toISOString())))
  if (now.getTime() - oldest < (deps.maxWaitMs ?? DEFAULT_GUARD_MAX_WAIT_MS) && !(await deps.roundSettled(tenant))) return { kind: 'waiting' }

  const threshold = settings?.massDeactivation ?? { enabled: false, percent: 100, minUsers: 1 }
  const active = await deps.activeUsers(tenant)
  if (!exceedsThreshold(fresh.length, active, threshold)) {
    for (const d of fresh) await step(d.id, applyDeferred, { by: 'clock' })
    return { kind: 'applied', users: fresh.length }
  }
  const users = fresh.map((d) => d.id)
  const reason = `${users.length} of ${active} active users would be deactivated at once (threshold: more than ${threshold.percent} % and at least ${threshold.minUsers} users)`
  // The hold row first, then its users' events: a crash in between leaves users the next tick puts back into it.
  const hold = await deps.holds.create({ id: holdIdOf(tenant, users), tenant, users, reason, createdAt: now })
  for (const id of users) await step(id, (s) => holdDeferred(s, hold.id, now), { by: 'mass-deactivation-guard' })
  return { kind: 'held', holdId: hold.id, users: users.length, rejoined: rejoin.length }
}
