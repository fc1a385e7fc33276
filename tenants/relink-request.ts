// Asking for a re-link: the tenant's customer reconnected their HR system, so Kombo serves the same
// people under a new integration with new ids. Binding it straight away would import everyone a
// second time; instead a re-link run is recorded (producers/relink) and the tenant marked with why
// it is waiting. The poller role carries the run out and then switches the tenant over. Shared by
// the lifecycle webhook and the operator API.
import type { Tenant } from '../schemas/tenant.ts'
import type { RelinkRun, SqlRelinkStore } from '../producers/relink/relink-store.ts'
import { IntegrationAlreadyBoundError, type TenantStore } from './port.ts'

export type RelinkRequests = Pick<SqlRelinkStore, 'request' | 'runsOf'>

export async function requestRelink(store: TenantStore, relinks: RelinkRequests, tenant: Tenant, toIntegrationId: string, actor: string): Promise<RelinkRun> {
  const bound = await store.byIntegration(toIntegrationId)
  if (bound && bound.id !== tenant.id) throw new IntegrationAlreadyBoundError(toIntegrationId, bound.id)
  const run = await relinks.request(tenant.id, tenant.integrationId, toIntegrationId, actor)
  if (run.state === 'pending') {
    const reason = `re-linking to Kombo integration ${toIntegrationId} (was ${tenant.integrationId ?? 'none'}): matching its records to the existing users before polling it`
    // Through the store: audited, and the version bump wakes the poller role that runs it.
    await store.update(tenant.id, { failingReason: reason }, { actor, action: 'tenant.relink-requested', details: { fromIntegrationId: tenant.integrationId, toIntegrationId } })
  }
  return run
}
