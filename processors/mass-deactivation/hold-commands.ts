// An operator's decision on a hold (POST …/holds/{id}/release | discard): every held user's stream
// gets its event (UserDeactivated, audited as cause `hold-release` with the actor; or
// UserDeactivationDiscarded with the actor), then the hold row is marked. In that order: a crash
// in between leaves the hold open, and repeating the command appends only what is missing (the
// event ids are deterministic). The same decision repeated is answered with the hold as decided.
import { KomboSyncError } from '../../errors/kombo-sync-error.ts'
import type { Hold } from '../../schemas/holds.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import type { TenantSettings } from '../../schemas/tenant.ts'
import { handleCommand, retryOnConflict } from '../commands/handle-command.ts'
import { employeeDecider } from '../domain/employee.ts'
import { nextDueAt } from '../domain/next-due.ts'
import type { EventStore } from '../eventstore/port.ts'
import { discardHeld, releaseHeld } from './decisions.ts'
import type { HoldStore } from './hold-store.ts'

export type HoldAction = 'release' | 'discard'

export class HoldNotFoundError extends KomboSyncError {
  readonly retriable = false
  constructor(readonly tenant: string, readonly holdId: string) {
    super(`tenant ${tenant} has no hold ${holdId}`)
  }
}

/** The hold was decided the other way already (a released hold cannot be discarded, nor the reverse). */
export class HoldAlreadyDecidedError extends KomboSyncError {
  readonly retriable = false
  constructor(readonly hold: Hold) {
    super(`hold ${hold.id} was ${hold.status} by ${hold.decidedBy ?? 'someone'} at ${hold.decidedAt ?? 'an unknown time'}`)
  }
}

export interface HoldCommandDeps {
  store: EventStore
  holds: HoldStore
  views: { setNextDueAt(tenant: string, id: string, at: Date | null): Promise<void> }
  tenantSettingsOf: (tenant: string) => TenantSettings | undefined
  now: () => Date
}

const done: Record<HoldAction, 'released' | 'discarded'> = { release: 'released', discard: 'discarded' }

export async function decideHold(deps: HoldCommandDeps, tenant: string, holdId: string, action: HoldAction, actor: string): Promise<Hold> {
  const hold = await deps.holds.get(tenant, holdId)
  if (!hold) throw new HoldNotFoundError(tenant, holdId)
  if (hold.status !== 'open' && hold.status !== done[action]) throw new HoldAlreadyDecidedError(hold)
  const now = deps.now()
  const timeZone = deps.tenantSettingsOf(tenant)?.timeZone ?? 'UTC'
  // The audit's cause (projections/audit/change-entries.ts reads `cause`) and who decided.
  const metadata = { decidedAt: now.toISOString(), cause: { kind: action === 'release' ? 'hold-release' : 'manual', actor }, actor, holdId }
  for (const id of hold.users) {
    const { newState } = await handleCommand(
      deps.store,
      employeeStreamName(tenant, id),
      employeeDecider,
      (state) => (action === 'release' ? releaseHeld(state, holdId, now, timeZone) : discardHeld(state, holdId, actor, now)),
      { retry: retryOnConflict(9), metadata },
    )
    await deps.views.setNextDueAt(tenant, id, newState ? nextDueAt(newState, now, timeZone) : null)
  }
  return (await deps.holds.decide(tenant, holdId, done[action], actor, now)) ?? hold
}
