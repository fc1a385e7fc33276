// The composition root: configuration → adapters → the roles this process runs. `all` runs every
// stage in one process (the embedded default); each role can also run alone, several times.
import type { FastifyInstance } from 'fastify'
import type { Config, Role, TenantConfig } from '../config/config.ts'
import type { Logger } from './logger.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { openStores, type Stores } from './stores.ts'
import { startKomboSimulator, type KomboSimulator } from '../simulator/index.ts'
import { KomboClient } from '../producers/kombo/client.ts'
import { TenantPoller } from '../producers/tenant-poller.ts'
import type { ChangeLogConsumer } from '../producers/changelog/port.ts'
import { processChanges } from '../processors/process-changes.ts'
import { DEFAULT_STREAM_CACHE_SIZE, StreamStateCache } from '../processors/stream-state-cache.ts'
import { dropErasedEmployees } from '../processors/erased-employees.ts'
import { eraseEmployee, EmployeeNotFoundError } from '../processors/commands/erase-employee.ts'
import { purgeUserFromViews } from '../projections/viewstore/erase-user.ts'
import { inviteUser } from '../processors/commands/invite-user.ts'
import { InviteNotAllowedError as DomainInviteNotAllowedError } from '../processors/domain/employee.ts'
import { Projector } from '../projections/projector.ts'
import { runClockTick } from '../projections/clock.ts'
import { startUserFeed } from './user-feed.ts'
import { createUserHistory } from '../projections/history.ts'
import { buildApiApp } from '../api/app.ts'
import { InviteNotAllowedError, UserNotFoundError, type ReadinessReport } from '../api/ports.ts'
import { createTenantAuthenticator } from '../api/auth/tenant-tokens.ts'
import { belongsToTenant, redriveDeadLetters } from './admin.ts'
import { probeEventStore, probeKafka, probeSchemaRegistry } from './probes.ts'

/** The processors' consumer group (the Kafka adapter prefixes it with KAFKA_TOPIC_PREFIX). */
export const PROCESSOR_GROUP = 'kombo-sync-processor'

export interface RunningService {
  /** The read API's URL when this process serves it. */
  url: string | null
  simulator: KomboSimulator | null
  stores: Stores
  metrics: Metrics
  pollers: Map<string, TenantPoller>
  projector: Projector | null
  /** Runs one clock tick now (tests and the CLI use it; it also runs on an interval). */
  tickClock(): Promise<number>
  readiness(): Promise<ReadinessReport>
  stop(): Promise<void>
}

export interface ServiceOptions {
  logger: Logger
  /** The clock; tests move it forward to reach start and leave dates. */
  now?: () => Date
  /**
   * Processor tuning (benchmarks compare against the untuned processor): folded stream states kept
   * between batches (default 10k; 0 keeps none) and streams of a batch processed at once (default 8).
   */
  processor?: { cacheStreams?: number; concurrency?: number }
  /** Poller tuning (benchmarks compare against the poller that published every overlap re-read again). */
  poller?: { skipRepeats?: boolean }
}

const runs = (role: Role, stage: Exclude<Role, 'all'>) => role === 'all' || role === stage

export async function startService(config: Config, options: ServiceOptions): Promise<RunningService> {
  const { logger } = options
  const now = options.now ?? (() => new Date())
  const metrics = createMetrics()
  const tenantsById = new Map<string, TenantConfig>(config.tenants.map((t) => [t.id, t]))
  const invitePolicyOf = (tenant: string) => tenantsById.get(tenant)?.invitePolicy
  const stoppers: Array<() => Promise<void>> = []
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch((err: Error) => logger.error({ err }, 'error while stopping'))
  }

  try {
    const stores = await openStores(config)
    stoppers.push(() => stores.close())
    logger.info({ adapters: stores.describe, role: config.role }, 'stores opened')

    // ---- change source + poller ------------------------------------------------------------------
    let simulator: KomboSimulator | null = null
    const pollers = new Map<string, TenantPoller>()
    if (runs(config.role, 'poller')) {
      let kombo = config.kombo
      if (!kombo) {
        simulator = await startKomboSimulator({ port: 0, employees: config.simulator.employees, seed: config.simulator.seed, now, logger: false })
        stoppers.push(() => simulator!.close())
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
        onRetry: (info) => metrics.upstreamRetries.inc({ reason: String(info.reason ?? 'unknown').slice(0, 40) }),
      })
      for (const tenant of config.tenants) {
        const poller = new TenantPoller({
          client,
          tenant: tenant.id,
          integrationId: tenant.integrationId,
          syncState: stores.syncState,
          publish: async (envelopes) => {
            await stores.changeLog.publish(envelopes)
            for (const e of envelopes) metrics.recordsPolled.inc({ tenant: e.tenant, resource: e.resource })
          },
          intervalMs: tenant.pollIntervalMs ?? config.pollIntervalMs,
          overlapMs: config.watermarkOverlapMs,
          skipRepeats: options.poller?.skipRepeats,
          now,
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
        pollers.set(tenant.id, poller)
        poller.start()
        stoppers.push(() => poller.stop())
      }
    }

    // ---- processor ----------------------------------------------------------------------------------
    let consumer: ChangeLogConsumer | null = null
    let consumerError: Error | null = null
    if (runs(config.role, 'processor')) {
      const streamCache = new StreamStateCache(options.processor?.cacheStreams ?? DEFAULT_STREAM_CACHE_SIZE)
      consumer = await stores.changeLog.consume(
        PROCESSOR_GROUP,
        async (consumed) => {
          const { kept: batch, dropped } = await dropErasedEmployees(consumed, stores.personalDataKeys)
          for (const d of dropped) logger.info(d, 'record of an erased employee dropped (GDPR erasure)')
          const outcomes = await processChanges(batch, {
            store: stores.eventStore,
            deadLetters: stores.deadLetters,
            invitePolicyOf,
            now,
            cache: streamCache,
            concurrency: options.processor?.concurrency,
            onAppended: ({ events, ms }) => {
              metrics.eventsAppended.inc(events)
              metrics.appendSeconds.observe(ms / 1000)
            },
            onDeadLetter: ({ reason, key }) => {
              metrics.deadLetters.inc()
              logger.warn({ key, reason }, 'record dead-lettered')
            },
          })
          for (const o of outcomes) metrics.recordsProcessed.inc({ outcome: o.kind })
          consumerError = null
        },
        {
          onError: (err) => {
            consumerError = err
            logger.error({ err }, 'processing a change batch failed; it will be retried')
          },
        },
      )
      stoppers.push(() => consumer!.stop())
    }

    // ---- projector + clock ----------------------------------------------------------------------------
    let projector: Projector | null = null
    const tickClock = () =>
      runClockTick({ store: stores.eventStore, views: stores.views, invitePolicyOf, now }).then((n) => {
        metrics.clockEvents.inc(n)
        return n
      })
    if (runs(config.role, 'projector')) {
      projector = new Projector({
        store: stores.eventStore,
        views: stores.views,
        onApplied: ({ events, position }) => {
          metrics.projectedEvents.inc(events)
          metrics.projectionPosition.set(Number(position))
        },
        onError: (err) => logger.error({ err }, 'projection failed; retrying'),
      })
      await projector.start()
      stoppers.push(() => projector!.stop())
      // The downstream user feed (Kafka only), from its own checkpoint: see docs/user-events-feed.md.
      const userFeed = await startUserFeed(config, { stores, metrics, logger })
      if (userFeed) stoppers.push(() => userFeed.stop())
      const timer = setInterval(() => {
        tickClock().catch((err: Error) => logger.error({ err }, 'clock tick failed'))
      }, config.clockIntervalMs)
      stoppers.push(async () => clearInterval(timer))
    }

    // ---- readiness -------------------------------------------------------------------------------------
    // Set on every scrape and readiness check (not only the latter), so an alert on
    // kombo_sync_tenant_failing fires even when nobody probes /health/ready.
    const refreshTenantFailing = () => {
      for (const [tenant, poller] of pollers) metrics.tenantFailing.set({ tenant }, poller.stoppedBecause ? 1 : 0)
    }
    const readiness = async (): Promise<ReadinessReport> => {
      const checks: ReadinessReport['checks'] = {}
      // Every store this process talks to, probed in parallel with a bound each: a store that is
      // down makes the process unready even before a batch fails on it.
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
      if (consumer) checks.processor = consumerError ? { ok: false, detail: consumerError.message } : { ok: true }
      if (projector) checks.projector = projector.error ? { ok: false, detail: projector.error.message } : { ok: true }
      refreshTenantFailing()
      for (const [tenant, poller] of pollers) {
        const stopped = poller.stoppedBecause
        // A failing tenant is reported but does not make the whole service unready.
        checks[`tenant:${tenant}`] = stopped ? { ok: true, detail: `polling stopped: ${stopped.message}` } : { ok: true }
      }
      return { ready: Object.values(checks).every((c) => c.ok), checks }
    }

    // ---- read API --------------------------------------------------------------------------------------
    let app: FastifyInstance | null = null
    let url: string | null = null
    if (runs(config.role, 'api')) {
      const history = createUserHistory(stores.eventStore)
      app = await buildApiApp(
        {
          views: stores.views,
          history,
          commands: {
            inviteUser: async (tenant, externalId, actor) => {
              try {
                return await inviteUser({ store: stores.eventStore, now }, { tenant, employeeId: externalId, actor })
              } catch (err) {
                if (err instanceof DomainInviteNotAllowedError) {
                  if (err.reason === 'unknown_employee') throw new UserNotFoundError(tenant, externalId)
                  throw new InviteNotAllowedError(tenant, externalId, err.reason.replaceAll('_', ' '))
                }
                throw err
              }
            },
          },
          syncStatus: {
            list: async (tenant) =>
              (await stores.syncState.list(tenant)).map((s) => ({
                ...s,
                // Seconds since the resource was last fully polled: the sync's lag behind Kombo.
                lagSeconds: s.lastSuccessAt ? Math.max(0, Math.round((now().getTime() - Date.parse(s.lastSuccessAt)) / 1000)) : null,
              })),
          },
          webhooks: {
            onKomboEvent: async ({ integrationId, type, webhookId }) => {
              const tenant = config.tenants.find((t) => t.integrationId === integrationId)
              const poller = tenant ? pollers.get(tenant.id) : undefined
              if (!tenant || !poller) {
                // Unknown here (or polled by another process's poller role): nothing to do.
                logger.warn({ integrationId, type, webhookId }, 'Kombo webhook for an integration this process does not poll; ignored')
                return
              }
              logger.info({ tenant: tenant.id, type, webhookId }, 'Kombo webhook: polling now')
              await poller.pollNow()
            },
          },
          erasure: {
            eraseEmployee: async ({ tenant, employeeId, reason, actor }) => {
              try {
                return await eraseEmployee(
                  { store: stores.eventStore, keys: stores.personalDataKeys, purgeViews: (t, id) => purgeUserFromViews(stores.db, t, id) },
                  { tenant, employeeId, reason, actor },
                )
              } catch (err) {
                if (err instanceof EmployeeNotFoundError) throw new UserNotFoundError(tenant, employeeId)
                throw err
              }
            },
          },
          deadLetters: {
            list: async (tenant, { includeRedriven }) =>
              (await stores.deadLetters.list({ includeRedriven })).filter((l) => belongsToTenant(l, tenant)),
            redrive: (tenant, id) => redriveDeadLetters(stores, [id], { tenant }),
          },
          tenants: createTenantAuthenticator(config.tenants.map((t) => ({ id: t.id, tokenSha256: t.tokenSha256 }))),
          readiness,
          metrics: {
            contentType: metrics.registry.contentType,
            render: () => {
              refreshTenantFailing()
              return metrics.registry.metrics()
            },
          },
        },
        {
          logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
          rateLimitPerMinute: config.apiRateLimitPerMinute,
          komboWebhook: { secret: config.komboWebhook.secret, toleranceMs: config.komboWebhook.toleranceSeconds * 1000, now },
        },
      )
      stoppers.push(() => app!.close())
      const address = await app.listen({ host: config.http.host, port: config.http.port })
      url = address
    }

    return {
      url,
      simulator,
      stores,
      metrics,
      pollers,
      projector,
      tickClock,
      readiness,
      stop: stopAll,
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}
