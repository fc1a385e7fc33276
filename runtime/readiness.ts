// Readiness of one process: every store it talks to answers (probed in parallel, each bounded),
// and the roles it runs are not stuck on a failure. A tenant whose polling stopped is reported but
// does not make the whole service unready: the other tenants are still served.
import type { Config } from '../config/config.ts'
import type { ReadinessReport } from '../api/ports.ts'
import type { TenantPoller } from '../producers/tenant-poller.ts'
import type { Metrics } from './metrics.ts'
import type { Stores } from './stores.ts'
import { probeEventStore, probeKafka, probeSchemaRegistry } from './probes.ts'

export interface ReadinessSources {
  config: Pick<Config, 'kafka'>
  stores: Pick<Stores, 'db' | 'rawEventStore'>
  metrics: Pick<Metrics, 'tenantFailing'>
  /** Each role this process runs: its last failure (null when well), and what else to say. */
  roles: () => Record<string, { error: Error | null; detail?: string }>
  pollers: () => ReadonlyMap<string, TenantPoller>
}

export interface Readiness {
  check(): Promise<ReadinessReport>
  /**
   * Sets kombo_sync_tenant_failing. Called on every scrape and readiness check (not only the
   * latter), so an alert on it fires even when nobody probes /health/ready.
   */
  refreshTenantFailing(): void
}

export function createReadiness(sources: ReadinessSources): Readiness {
  const refreshTenantFailing = () => {
    for (const [tenant, poller] of sources.pollers()) sources.metrics.tenantFailing.set({ tenant }, poller.stoppedBecause ? 1 : 0)
  }
  return {
    refreshTenantFailing,
    async check() {
      const checks: ReadinessReport['checks'] = await probeStores(sources)
      for (const [role, { error, detail }] of Object.entries(sources.roles())) {
        checks[role] = error ? { ok: false, detail: error.message } : detail ? { ok: true, detail } : { ok: true }
      }
      refreshTenantFailing()
      for (const [tenant, poller] of sources.pollers()) {
        const stopped = poller.stoppedBecause
        checks[`tenant:${tenant}`] = stopped ? { ok: true, detail: `polling stopped: ${stopped.message}` } : { ok: true }
      }
      return { ready: Object.values(checks).every((c) => c.ok), checks }
    },
  }
}

/** A store that is down makes the process unready even before a batch fails on it. */
async function probeStores({ config, stores }: ReadinessSources): Promise<ReadinessReport['checks']> {
  const checks: ReadinessReport['checks'] = {}
  const probes: Array<[string, () => Promise<unknown>]> = [
    ['database', () => stores.db.query('SELECT 1')],
    ['eventStore', () => probeEventStore(stores.rawEventStore)],
  ]
  const kafka = config.kafka
  if (kafka) probes.push(['changeLog', () => probeKafka(kafka.brokers)], ['schemaRegistry', () => probeSchemaRegistry(kafka.registryUrl)])
  await Promise.all(
    probes.map(async ([name, probe]) => {
      try {
        await probe()
        checks[name] = { ok: true }
      } catch (err) {
        checks[name] = { ok: false, detail: (err as Error).message }
      }
    }),
  )
  return checks
}
