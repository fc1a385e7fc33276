// The processor role: consumes the change log in the processors' group, drops records of erased
// employees and folds the rest into the event store. A failing batch is retried a few times, then
// split until a record that keeps failing alone is dead-lettered with the reason (the others go
// on; processors/poison-isolation.ts); while the event store is down the batch is only retried.
// The last failure is kept for readiness until a batch succeeds again.
import { endSpans, SpanKind, startSpan, tracingEnabled } from '../../tracing/spans.ts'
import { processChanges } from '../../processors/process-changes.ts'
import { DEFAULT_STREAM_CACHE_SIZE, StreamStateCache } from '../../processors/stream-state-cache.ts'
import { dropErasedEmployees } from '../../processors/erased-employees.ts'
import { handleIsolatingPoison } from '../../processors/poison-isolation.ts'
import { isDatabaseUnavailable } from '../../sql/unavailable.ts'
import { WrongExpectedRevisionError } from '../../processors/eventstore/port.ts'
import type { ConsumedChange } from '../../producers/changelog/port.ts'
import { PROCESSOR_GROUP } from '../processor-group.ts'
import { probeEventStore } from '../probes.ts'
import type { Stores } from '../stores.ts'
import type { RoleContext, RoleHandle } from './context.ts'

/** The record's tenant: from the (not yet validated) envelope, else the `tenant:komboId` key. */
function tenantOf(r: ConsumedChange): string | null {
  const fromValue = (r.value as { tenant?: unknown } | null)?.tenant
  if (typeof fromValue === 'string') return fromValue
  const colon = r.key.indexOf(':')
  return colon > 0 ? r.key.slice(0, colon) : null
}

/**
 * Before a record is found to belong to an unknown tenant (and dead-lettered for it), this
 * process's copy of the tenant table is brought up to date. With roles apart, a tenant onboarded
 * through the api process is seen by the poller's directory and by this one each on its own timer
 * (TENANT_REFRESH_MS): the poller can be first, and the new tenant's first records reached this
 * processor before its directory knew the tenant — every one of them was dead-lettered as
 * "unknown tenant" and the tenant never synced. One version check per batch that has a tenant
 * not known here (a reload only when the table changed).
 */
export async function knowTenantsOf(batch: ConsumedChange[], tenants: Pick<RoleContext['tenants'], 'get' | 'refresh'>): Promise<void> {
  const unknown = batch.some((r) => {
    const tenant = tenantOf(r)
    return tenant !== null && tenants.get(tenant) === undefined
  })
  if (unknown) await tenants.refresh()
}

/** Tries of a failing batch (and of each half) before it is split toward the poison record. */
export const POISON_AFTER_ATTEMPTS = 3

export interface ProcessorRole extends RoleHandle {
  /** The last batch failure, null once a batch succeeded. */
  readonly error: Error | null
  /** Records dead-lettered since start because they kept failing alone. */
  readonly poisoned: number
}

/** What the batch handler needs: the role context, narrowed to the stores it uses. */
export type ProcessorContext = Pick<RoleContext, 'metrics' | 'logger' | 'now' | 'tenantSettingsOf' | 'tuning'> & {
  stores: Pick<Stores, 'db' | 'eventStore' | 'rawEventStore' | 'deadLetters' | 'personalDataKeys'>
}

export async function startProcessorRole(ctx: RoleContext): Promise<ProcessorRole> {
  let error: Error | null = null
  let stopping = false
  const reportError = (err: Error) => {
    error = err
    ctx.logger.error({ err }, 'processing a change batch failed; it will be retried')
  }
  const handler = changeBatchHandler(ctx, { onError: reportError, stopped: () => stopping })
  const consumer = await ctx.stores.changeLog.consume(
    PROCESSOR_GROUP,
    async (consumed) => {
      await knowTenantsOf(consumed, ctx.tenants)
      await handler.handle(consumed)
      // The initial sync's `processed` figure (runtime/progress.ts): one write per batch.
      const perTenant = new Map<string, number>()
      for (const r of consumed) {
        const tenant = tenantOf(r)
        if (tenant) perTenant.set(tenant, (perTenant.get(tenant) ?? 0) + 1)
      }
      await ctx.stores.syncState.recordProcessed(perTenant).catch((err) => ctx.logger.warn({ err }, 'counting processed records for the initial sync failed'))
      error = null
    },
    { onError: reportError },
  )
  return {
    get error() {
      return error
    },
    get poisoned() {
      return handler.poisoned
    },
    stop: () => {
      stopping = true
      return consumer.stop()
    },
  }
}

/** One consumed batch: erased employees' records dropped, the rest processed, a poison record dead-lettered. */
export function changeBatchHandler(ctx: ProcessorContext, hooks: { onError: (err: Error) => void; stopped: () => boolean }) {
  const { stores, metrics, logger } = ctx
  const streamCache = new StreamStateCache(ctx.tuning.processor?.cacheStreams ?? DEFAULT_STREAM_CACHE_SIZE)
  let poisoned = 0
  const processBatch = async (batch: ConsumedChange[]) => {
    // Each traced record's processing joins the record's own trace (tracing/spans.ts).
    const spans = tracingEnabled()
      ? batch.map((c) => (c.traceparent ? startSpan(`process ${c.resource}`, { traceparent: c.traceparent, kind: SpanKind.CONSUMER, attributes: { 'kombo_sync.key': c.key, 'kombo_sync.offset': c.offset } }) : null))
      : []
    let outcomes: Awaited<ReturnType<typeof processChanges>>
    try {
      outcomes = await processChanges(batch, {
      store: stores.eventStore,
      deadLetters: stores.deadLetters,
      tenantSettingsOf: ctx.tenantSettingsOf,
      now: ctx.now,
      cache: streamCache,
      concurrency: ctx.tuning.processor?.concurrency,
      // Deactivations of active users wait for the clock's mass-deactivation guard (runtime/roles/projector.ts).
      massDeactivationGuard: true,
      onAppended: ({ events, ms }) => {
        metrics.eventsAppended.inc(events)
        metrics.appendSeconds.observe(ms / 1000)
      },
      onDeadLetter: ({ reason, key }) => {
        metrics.deadLetters.inc()
        logger.warn({ key, reason }, 'record dead-lettered')
      },
    })
    } catch (err) {
      endSpans(spans, err)
      throw err
    }
    spans.forEach((span, i) => span?.setAttribute('kombo_sync.outcome', outcomes[i].kind))
    endSpans(spans)
    for (const o of outcomes) metrics.recordsProcessed.inc({ outcome: o.kind })
  }
  const deadLetter = async (change: ConsumedChange, err: Error) => {
    const reason = `kept failing at the processor after repeated tries: ${err.message}`.slice(0, 2000)
    await stores.deadLetters.put({ reason, origin: { resource: change.resource, partition: change.partition, offset: change.offset, stage: 'processor' }, key: change.key, raw: change.raw })
    poisoned++
    metrics.deadLetters.inc()
    metrics.processorPoisonedRecords.inc()
    metrics.recordsProcessed.inc({ outcome: 'dead-lettered' })
    logger.error({ key: change.key, reason }, 'record dead-lettered: it kept failing alone')
  }
  return {
    get poisoned() {
      return poisoned
    },
    async handle(consumed: ConsumedChange[]): Promise<void> {
      const { kept: batch, dropped } = await dropErasedEmployees(consumed, stores.personalDataKeys)
      for (const d of dropped) logger.info(d, 'record of an erased employee dropped (GDPR erasure)')
      await handleIsolatingPoison(batch, processBatch, {
        attempts: POISON_AFTER_ATTEMPTS,
        // Every store a batch needs must answer, not only the event store: encryption keys, erasures,
        // tenants and the sync counters live in the database. A record failing while the database is
        // down is not poison, and must not be dead-lettered.
        healthy: () => Promise.all([probeEventStore(stores.rawEventStore), stores.db.query('SELECT 1')]).then(() => true),
        unavailable: isDatabaseUnavailable,
        // Streams that kept changing under the processor: not a record's fault, the consumer retries.
        isTransient: (err) => err instanceof WrongExpectedRevisionError,
        poisoned: deadLetter,
        onError: hooks.onError,
        stopped: hooks.stopped,
      })
    },
  }
}
