// The poller role: one TenantPoller per tenant that should be polled (active, bound to an
// integration), publishing into the change log. Without a KOMBO_BASE_URL it starts the embedded
// Kombo simulator first. The set of pollers follows the tenant table (producers/tenant-pollers.ts):
// tenants are onboarded, paused, resumed and offboarded while the process runs.
import type { Tenant } from '../../schemas/tenant.ts'
import { TenantPollers } from '../../producers/tenant-pollers.ts'
import { KomboClient } from '../../producers/kombo/client.ts'
import { TenantPoller } from '../../producers/tenant-poller.ts'
import { minimisingClient } from '../../producers/minimise-record.ts'
import { polledResources } from '../../schemas/data-scopes.ts'
import { startKomboSimulator, type KomboSimulator } from '../../simulator/index.ts'
import type { RoleContext, RoleHandle } from './context.ts'
import { recordPollOutcome } from '../poll-metrics.ts'
import type { ChangeEnvelope } from '../../schemas/envelope.ts'
import { endSpans, SpanKind, startSpan, traceparentOf, tracingEnabled, TRACEPARENT, type Traced } from '../../tracing/spans.ts'
import { initialSyncSourceOf, startInitialSyncReporter } from '../progress.ts'
import { relinkedPublish, relinkerOf } from '../relinks.ts'
import { tenantBudget, type TenantBudget } from '../../producers/tenant-budget.ts'
import { PROCESSOR_GROUP } from '../processor-group.ts'
import { unprojectedEventsFromTail } from '../../projections/unprojected-tail.ts'

export interface PollerRole extends RoleHandle {
  simulator: KomboSimulator | null
  /** The running pollers by tenant id (the same Map for the life of the role). */
  pollers: ReadonlyMap<string, TenantPoller>
}

export async function startPollerRole(ctx: RoleContext): Promise<PollerRole> {
  const { config, logger, now } = ctx
  let simulator: KomboSimulator | null = null
  let kombo = config.kombo
  if (!kombo) {
    simulator = await startKomboSimulator({ port: 0, employees: config.simulator.employees, seed: config.simulator.seed, now, logger: false })
    if (config.simulator.churnPerSecond > 0) {
      for (const t of ctx.tenants.list()) if (t.integrationId && t.status === 'active') simulator.integration(t.integrationId)
      simulator.startChurn(config.simulator.churnPerSecond)
    }
    kombo = { baseUrl: simulator.url, apiKey: 'embedded-simulator' }
    logger.info({ url: simulator.url, employees: config.simulator.employees }, 'Kombo simulator started (no KOMBO_BASE_URL given)')
  }
  const client = new KomboClient({
    baseUrl: kombo.baseUrl,
    apiKey: kombo.apiKey,
    timeoutMs: config.komboTimeoutMs,
    maxResponseBytes: config.maxResponseBytes,
    onRetry: (info) => ctx.metrics.upstreamRetries.inc({ reason: String(info.reason ?? 'unknown').slice(0, 40) }),
  })

  // Alone: the budget's only tenant (none other to be fair to), in its initial sync (nothing that a
  // held backlog would let Kombo fold into newer versions), may run further ahead (ALONE_FACTOR).
  const budget = backlogBudget(ctx, (tenant) => supervised.pollers.size <= 1 && supervised.pollers.get(tenant)?.initialPolling === true)
  const supervised: TenantPollers = new TenantPollers({
    create: (tenant) => newTenantPoller(ctx, client, tenant, budget),
    onStarted: (t) => logger.info({ tenant: t.id, integrationId: t.integrationId }, 'polling the tenant'),
    onStopped: (tenant, why) => logger.info({ tenant, why }, 'stopped polling the tenant'),
  })
  await supervised.reconcile(ctx.tenants.list())
  // Re-links of reconnected integrations are carried out here (this role holds the Kombo client);
  // a request bumps the tenant table's version, so the subscription below wakes it.
  const relinker = relinkerOf(ctx, client)
  void relinker.kick()
  // Onboarded, paused, resumed, offboarded or rebound tenants: within a directory refresh.
  const unsubscribe = ctx.tenants.subscribe(() => {
    void relinker.kick()
    return supervised.reconcile(ctx.tenants.list())
  })

  // The poller role logs the initial-sync progress of the tenants it polls (every ~5 s until done):
  // it is the role that exists whenever an initial sync runs.
  const stopReporter = startInitialSyncReporter({
    source: initialSyncSourceOf(ctx.stores),
    tenants: () => supervised.pollers.keys(),
    now,
    logger: {
      info: (o, m) => logger.info(o, m),
      warn: (o, m) => logger.warn(o, m),
    },
    onProgress: (tenant, p) => {
      for (const stage of ['polled', 'processed', 'visible'] as const) ctx.metrics.initialSyncRecords.set({ tenant, stage }, p[stage])
      ctx.metrics.initialSyncRate.set({ tenant }, p.ratePerSecond)
      ctx.metrics.initialSyncDone.set({ tenant }, p.state === 'done' ? 1 : 0)
    },
  })

  return {
    simulator,
    pollers: supervised.pollers,
    async stop() {
      stopReporter()
      unsubscribe()
      await relinker.stop()
      await supervised.stop()
      await simulator?.close()
    },
  }
}

/**
 * The per-tenant backlog budget (TENANT_BACKLOG_LIMIT): the tenant's records the processors' group
 * has not committed plus its events the views' projector (its shard) has not applied.
 */
function backlogBudget(ctx: RoleContext, alone: (tenant: string) => boolean): TenantBudget {
  const { limit, checkMs } = ctx.config.tenantBacklog
  return tenantBudget({
    changeLog: ctx.stores.changeLog,
    group: PROCESSOR_GROUP,
    // One shared read of the log's tail answers every tenant (projections/unprojected-tail.ts).
    // Counting per tenant in the store walks every other tenant's events behind the projector, for
    // each tenant, every check: on EventStoreDB a read of $all with the client's filter; on SQL the
    // position index with the prefixes as a filter, which at 50 tenants × 1k on PostgreSQL was the
    // statement active in 931 of 1,252 samples of pg_stat_activity (docs/benchmarks.md, 2026-12-07).
    unprojected: unprojectedEventsFromTail({ store: ctx.stores.eventStore, views: ctx.stores.views }),
    limit,
    alone,
    checkMs,
    // Waiting is the budget working, not a problem: debug only; the metric shows how much.
    onWait: (tenant, backlog) => ctx.logger.debug({ tenant, backlog, limit }, "tenant's backlog at its budget: the next page waits for the processors and the projector"),
    onWaited: (tenant, waitedMs, aborted) => {
      ctx.metrics.tenantBacklogWaitSeconds.inc({ tenant }, waitedMs / 1000)
      ctx.logger.debug({ tenant, waitedMs, aborted }, aborted ? 'backlog wait ended by stop' : "tenant's backlog below its budget: publishing")
    },
  })
}

function newTenantPoller(ctx: RoleContext, client: KomboClient, tenant: Tenant, budget: TenantBudget): TenantPoller {
  const { config, stores, metrics, logger } = ctx
  // Aborted when this poller stops, so a page waiting on the backlog budget does not hold the stop.
  const stopping = new AbortController()
  const poller = new TenantPoller({
    // Only the fields of the tenant's scopes leave the client (data minimisation, docs/data-kept.md).
    client: minimisingClient(client, tenant.settings.optionalFields),
    tenant: tenant.id,
    // Optional resources the tenant switched off are never requested (schemas/data-scopes.ts).
    resources: polledResources(tenant.settings),
    // TenantPollers only polls tenants bound to an integration.
    integrationId: tenant.integrationId!,
    syncState: stores.syncState,
    // A re-linked integration's records go into the existing streams (producers/relink).
    publish: relinkedPublish(ctx, tenant.id, tenant.integrationId!, budget.publishing(tenant.id, stopping.signal, async (envelopes: ChangeEnvelope[]) => {
      const spans = traceChanges(envelopes)
      try {
        await stores.changeLog.publish(envelopes)
      } catch (err) {
        endSpans(spans, err)
        throw err
      }
      endSpans(spans)
      for (const e of envelopes) metrics.recordsPolled.inc({ tenant: e.tenant, resource: e.resource })
    })),
    intervalMs: tenant.settings.pollIntervalMs ?? config.pollIntervalMs,
    overlapMs: config.watermarkOverlapMs,
    skipRepeats: ctx.tuning.poller?.skipRepeats,
    pageSize: ctx.tuning.poller?.pageSize,
    now: ctx.now,
    maxPagesPerPoll: config.maxPagesPerPoll,
    fullReconcileIntervalMs: tenant.settings.fullReconcileIntervalMs ?? config.fullReconcileIntervalMs,
    // Records refused at the poller's edge (producers/sanitise-record.ts) are kept as dead letters.
    deadLetter: async (letter) => {
      await stores.deadLetters.put(letter)
      metrics.deadLetters.inc()
      metrics.recordsRejected.inc({ tenant: tenant.id, resource: String(letter.origin.resource) })
      logger.warn({ tenant: tenant.id, key: letter.key, reason: letter.reason }, 'record rejected at the poller and dead-lettered')
    },
    onPolled: (outcome) => recordPollOutcome(metrics, tenant.id, outcome),
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
  // The poller's own stop signal is private: abort ours first (a budget wait then ends at once,
  // its page unpublished and the watermark kept), then stop the poller as usual.
  const stop = poller.stop.bind(poller)
  poller.stop = () => {
    stopping.abort(new Error(`the poller of tenant ${tenant.id} was stopped`))
    return stop()
  }
  return poller
}

/** One new trace per change record, started as it is published; its context travels with the record. */
function traceChanges(envelopes: Traced<ChangeEnvelope>[]) {
  if (!tracingEnabled()) return []
  return envelopes.map((envelope) => {
    const span = startSpan(`publish ${envelope.resource}`, {
      root: true,
      kind: SpanKind.PRODUCER,
      attributes: { 'kombo_sync.tenant': envelope.tenant, 'kombo_sync.resource': envelope.resource, 'kombo_sync.entity': envelope.record.id, 'kombo_sync.poll_id': envelope.pollId },
    })
    if (span) envelope[TRACEPARENT] = traceparentOf(span)
    return span
  })
}
