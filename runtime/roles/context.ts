// What every role is started with: the configuration, the opened stores, the process's metrics and
// logger, and the clock. A role is `start(ctx) → handle`, and its handle's `stop()` undoes it.
import type { Config } from '../../config/config.ts'
import type { TenantSettings } from '../../schemas/tenant.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import type { Stores } from '../stores.ts'
import type { TenantDirectory } from '../../tenants/directory.ts'

/**
 * Switches only the benchmarks use, to compare against the pipeline before an optimisation: the
 * processor's folded stream states kept between batches (default 10k; 0 keeps none) and streams
 * of a batch processed at once (default 8); the poller publishing every overlap re-read again;
 * the read API without its cache of serialised view answers (api/view-cache.ts).
 */
export interface Tuning {
  processor?: { cacheStreams?: number; concurrency?: number }
  poller?: { skipRepeats?: boolean; pageSize?: number }
  api?: { viewCache?: boolean }
}

export interface RoleContext {
  config: Config
  stores: Stores
  metrics: Metrics
  logger: Logger
  now: () => Date
  /** The tenant's settings (invite policy, time zone, mass-deactivation threshold …), undefined for a tenant this process does not know. */
  tenantSettingsOf: (tenant: string) => TenantSettings | undefined
  /** The zone the tenant's HR dates are calendar days in (UTC for a tenant this process does not know). */
  timeZoneOf: (tenant: string) => string
  /** This process's view of the tenant table (follows changes made by any process). */
  tenants: TenantDirectory
  tuning: Tuning
}

export interface RoleHandle {
  stop(): Promise<void>
}
