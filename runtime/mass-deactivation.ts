// Wiring of the mass-deactivation guard (processors/mass-deactivation/guard.ts) to this
// deployment's stores: active users from the views, "round settled" from the poller's sync state
// and the processor's backlog, the open holds as a gauge.
import type { MassDeactivationGuardDeps } from '../processors/mass-deactivation/guard.ts'
import { tenantViewCounts } from '../projections/viewstore/tenant-employees.ts'
import type { Metrics } from './metrics.ts'
import { PROCESSOR_GROUP } from './processor-group.ts'
import type { Stores } from './stores.ts'

export function massDeactivationGuardOf(stores: Pick<Stores, 'db' | 'holds' | 'syncState' | 'changeLog'>): MassDeactivationGuardDeps {
  return {
    holds: stores.holds,
    activeUsers: async (tenant) => (await tenantViewCounts(stores.db, tenant)).users.active ?? 0,
    // The round is complete when no employees poll of the tenant is running (its records are all
    // published) and the processor has nothing left (its deferrals are all in the streams).
    roundSettled: async (tenant) => {
      const employees = await stores.syncState.get(tenant, 'employees')
      const polling = employees?.lastPollStartedAt != null && (employees.lastPollFinishedAt == null || employees.lastPollFinishedAt < employees.lastPollStartedAt)
      return !polling && (await stores.changeLog.pending(PROCESSOR_GROUP, ['employees'])) === 0
    },
  }
}

/** Sets `kombo_sync_holds_open` per tenant (0 for a tenant whose holds were all decided). */
export async function reportOpenHolds(stores: Pick<Stores, 'holds'>, metrics: Metrics): Promise<void> {
  const counts = await stores.holds.openCounts()
  metrics.holdsOpen.reset()
  for (const [tenant, n] of counts) metrics.holdsOpen.set({ tenant }, n)
}
