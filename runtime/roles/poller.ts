// The poller role: one TenantPoller per tenant, publishing into the change log. Without a
// KOMBO_BASE_URL it starts the embedded Kombo simulator first. Pollers live in a map with
// add/remove, so tenants can come and go while the process runs.
import type { TenantConfig } from '../../config/config.ts'
import { KomboClient } from '../../producers/kombo/client.ts'
import { TenantPoller } from '../../producers/tenant-poller.ts'
import { minimisingClient } from '../../producers/minimise-record.ts'
import { startKomboSimulator, type KomboSimulator } from '../../simulator/index.ts'
import type { RoleContext, RoleHandle } from './context.ts'

export interface PollerRole extends RoleHandle {
  simulator: KomboSimulator | null
  /** The running pollers by tenant id. */
  pollers: ReadonlyMap<string, TenantPoller>
  addTenant(tenant: TenantConfig): void
  removeTenant(tenantId: string): Promise<void>
}

export async function startPollerRole(ctx: RoleContext): Promise<PollerRole> {
  const { config, logger, now } = ctx
  let simulator: KomboSimulator | null = null
  let kombo = config.kombo
  if (!kombo) {
    simulator = await startKomboSimulator({ port: 0, employees: config.simulator.employees, seed: config.simulator.seed, now, logger: false })
    if (config.simulator.churnPerSecond > 0) {
      for (const t of config.tenants) simulator.integration(t.integrationId)
      simulator.startChurn(config.simulator.churnPerSecond)
    }
    kombo = { baseUrl: simulator.url, apiKey: 'embedded-simulator' }
    logger.info({ url: simulator.url, employees: config.simulator.employees }, 'Kombo simulator started (no KOMBO_BASE_URL given)')
  }
  const client = new KomboClient({
    baseUrl: kombo.baseUrl,
    apiKey: kombo.apiKey,
    timeoutMs: config.komboTimeoutMs,
    onRetry: (info) => ctx.metrics.upstreamRetries.inc({ reason: String(info.reason ?? 'unknown').slice(0, 40) }),
  })

  const pollers = new Map<string, TenantPoller>()
  const addTenant = (tenant: TenantConfig) => {
    if (pollers.has(tenant.id)) return
    const poller = newTenantPoller(ctx, client, tenant)
    pollers.set(tenant.id, poller)
    poller.start()
  }
  const removeTenant = async (tenantId: string) => {
    const poller = pollers.get(tenantId)
    pollers.delete(tenantId)
    await poller?.stop()
  }
  for (const tenant of config.tenants) addTenant(tenant)

  return {
    simulator,
    pollers,
    addTenant,
    removeTenant,
    async stop() {
      for (const id of [...pollers.keys()].reverse()) await removeTenant(id)
      await simulator?.close()
    },
  }
}

function newTenantPoller(ctx: RoleContext, client: KomboClient, tenant: TenantConfig): TenantPoller {
  const { config, stores, metrics, logger } = ctx
  return new TenantPoller({
    // Only the fields of the tenant's scopes leave the client (data minimisation, docs/data-kept.md).
    client: minimisingClient(client, tenant.optionalFields),
    tenant: tenant.id,
    integrationId: tenant.integrationId,
    syncState: stores.syncState,
    publish: async (envelopes) => {
      await stores.changeLog.publish(envelopes)
      for (const e of envelopes) metrics.recordsPolled.inc({ tenant: e.tenant, resource: e.resource })
    },
    intervalMs: tenant.pollIntervalMs ?? config.pollIntervalMs,
    overlapMs: config.watermarkOverlapMs,
    skipRepeats: ctx.tuning.poller?.skipRepeats,
    now: ctx.now,
    logger: {
      debug: (o, m) => logger.debug({ tenant: tenant.id, ...o }, m),
      info: (o, m) => logger.info({ tenant: tenant.id, ...o }, m),
      warn: (o, m) => logger.warn({ tenant: tenant.id, ...o }, m),
      error: (o, m) => {
        metrics.pollErrors.inc({ tenant: tenant.id, resource: String((o as { resource?: string }).resource ?? 'all'), kind: 'error' })
        logger.error({ tenant: tenant.id, ...o }, m)
      },
    },
  })
}
