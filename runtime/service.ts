// The composition root: configuration → adapters → the roles this process runs. `all` runs every
// role in one process (the embedded default); each role can also run alone, several times. Each
// role is a module of its own under roles/ (`start(ctx) → stop`); this file only orders them.
import type { Config, Role } from '../config/config.ts'
import type { ReadinessReport } from '../api/ports.ts'
import type { KomboSimulator } from '../simulator/index.ts'
import type { TenantPoller } from '../producers/tenant-poller.ts'
import type { Projector } from '../projections/projector.ts'
import type { Logger } from './logger.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { openStores, type Stores } from './stores.ts'
import { createReadiness } from './readiness.ts'
import { startMetricsListener } from './metrics-listener.ts'
import type { RoleContext, Tuning } from './roles/context.ts'
import { startPollerRole, type PollerRole } from './roles/poller.ts'
import { startProcessorRole, type ProcessorRole } from './roles/processor.ts'
import { clockTicker, startProjectorRole, type ProjectorRole } from './roles/projector.ts'
import type { ClockTickResult } from '../processors/clock.ts'
import { startApiRole, type ApiRole } from './roles/api.ts'
import { seedTenants } from '../tenants/seed.ts'
import { TenantDirectory } from '../tenants/directory.ts'

// Kept here too for callers that import it with the service (tests, benchmarks).
export { PROCESSOR_GROUP } from './processor-group.ts'
export type { Tuning } from './roles/context.ts'

export interface RunningService {
  /** The read API's URL when this process serves it. */
  url: string | null
  /** Where a role without the read API serves /metrics (METRICS_PORT); null otherwise. */
  metricsUrl: string | null
  simulator: KomboSimulator | null
  stores: Stores
  metrics: Metrics
  /** The tenant pollers this process runs, by tenant: follows the tenant table (paused tenants are absent). */
  pollers: ReadonlyMap<string, TenantPoller>
  /** This process's view of the tenant table. */
  tenants: TenantDirectory
  projector: Projector | null
  /** Runs one clock tick now (tests and the CLI use it; it also runs on an interval). */
  tickClock(): Promise<ClockTickResult>
  readiness(): Promise<ReadinessReport>
  stop(): Promise<void>
}

export interface ServiceOptions {
  logger: Logger
  /** The clock; tests move it forward to reach start and leave dates. */
  now?: () => Date
  /** Benchmark-only switches (see Tuning); production never sets them. */
  tuning?: Tuning
}

const runs = (role: Role, stage: Exclude<Role, 'all'>) => role === 'all' || role === stage

export async function startService(config: Config, options: ServiceOptions): Promise<RunningService> {
  const { logger } = options
  const stoppers: Array<() => Promise<void>> = []
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch((err: Error) => logger.error({ err }, 'error while stopping'))
  }
  try {
    const stores = await openStores(config)
    stoppers.push(() => stores.close())
    logger.info({ adapters: stores.describe, role: config.role }, 'stores opened')
    // Tenants: seeded from the configuration, then followed in the database (tenants/).
    const seeded = await seedTenants(stores.tenants, config.tenants, { fromFile: config.tenantsFromFile })
    if (seeded.created.length || seeded.updated.length) logger.info(seeded, 'tenants seeded from the configuration')
    const directory = await TenantDirectory.open(stores.tenants, {
      refreshMs: config.tenantRefreshMs,
      onError: (err) => logger.error({ err }, 'following the tenant table failed; retrying'),
    })
    directory.start()
    stoppers.push(() => directory.stop())
    const ctx = roleContext(config, stores, directory, options)
    const started = <R extends { stop(): Promise<void> }>(role: R): R => (stoppers.push(() => role.stop()), role)

    const poller: PollerRole | null = runs(config.role, 'poller') ? started(await startPollerRole(ctx)) : null
    const processor: ProcessorRole | null = runs(config.role, 'processor') ? started(await startProcessorRole(ctx)) : null
    const tickClock = clockTicker(ctx)
    const projector: ProjectorRole | null = runs(config.role, 'projector') ? started(await startProjectorRole(ctx, tickClock)) : null
    const pollers = poller?.pollers ?? new Map<string, TenantPoller>()
    const readiness = createReadiness({
      config,
      stores,
      metrics: ctx.metrics,
      pollers: () => pollers,
      roles: () => ({
        ...(processor ? { processor: { error: processor.error, detail: poisonedDetail(processor.poisoned) } } : {}),
        ...(projector ? { projector: { error: projector.projector.error, detail: skippedDetail(projector.skipped) } } : {}),
      }),
    })
    const api: ApiRole | null = runs(config.role, 'api')
      ? started(await startApiRole(ctx, { readiness, pollerOf: (tenant) => pollers.get(tenant) }))
      : null
    const metricsUrl = await metricsListenerOf(config, ctx, started)

    return {
      url: api?.url ?? null,
      metricsUrl,
      simulator: poller?.simulator ?? null,
      stores,
      metrics: ctx.metrics,
      pollers,
      tenants: directory,
      projector: projector?.projector ?? null,
      tickClock,
      readiness: () => readiness.check(),
      stop: stopAll,
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}

/** The API port serves /metrics for `all` and `api`; the other roles serve it on METRICS_PORT when set. */
async function metricsListenerOf(config: Config, ctx: RoleContext, started: <R extends { stop(): Promise<void> }>(r: R) => R): Promise<string | null> {
  if (config.metricsPort === null) return null
  if (runs(config.role, 'api')) {
    ctx.logger.info({ role: config.role, metricsPort: config.metricsPort }, 'METRICS_PORT ignored: this role serves /metrics on the API port (PORT)')
    return null
  }
  const listener = started(
    await startMetricsListener(ctx.metrics.registry, {
      host: config.http.host,
      port: config.metricsPort,
      onError: (err) => ctx.logger.warn({ err }, 'collecting metrics failed'),
    }),
  )
  ctx.logger.info({ url: `${listener.url}/metrics` }, 'serving /metrics and /health/live')
  return listener.url
}

const poisonedDetail = (n: number) => (n > 0 ? `${n} record(s) dead-lettered since start because they kept failing (see dead letters)` : undefined)
const skippedDetail = (n: number) => (n > 0 ? `${n} event(s) skipped since start because they kept failing (see projection_dead_letters)` : undefined)

function roleContext(config: Config, stores: Stores, directory: TenantDirectory, options: ServiceOptions): RoleContext {
  return {
    config,
    stores,
    metrics: createMetrics(),
    logger: options.logger,
    now: options.now ?? (() => new Date()),
    tenantSettingsOf: (tenant) => directory.settingsOf(tenant),
    timeZoneOf: (tenant) => directory.settingsOf(tenant)?.timeZone ?? 'UTC',
    tenants: directory,
    tuning: options.tuning ?? {},
  }
}
