// The processor role: consumes the change log in the processors' group, drops records of erased
// employees and folds the rest into the event store. A failed batch is retried by the consumer;
// the last failure is kept for readiness until a batch succeeds again.
import { processChanges } from '../../processors/process-changes.ts'
import { DEFAULT_STREAM_CACHE_SIZE, StreamStateCache } from '../../processors/stream-state-cache.ts'
import { dropErasedEmployees } from '../../processors/erased-employees.ts'
import { PROCESSOR_GROUP } from '../processor-group.ts'
import type { RoleContext, RoleHandle } from './context.ts'

export interface ProcessorRole extends RoleHandle {
  /** The last batch failure, null once a batch succeeded. */
  readonly error: Error | null
}

export async function startProcessorRole(ctx: RoleContext): Promise<ProcessorRole> {
  const { stores, metrics, logger } = ctx
  const streamCache = new StreamStateCache(ctx.tuning.processor?.cacheStreams ?? DEFAULT_STREAM_CACHE_SIZE)
  let error: Error | null = null
  const consumer = await stores.changeLog.consume(
    PROCESSOR_GROUP,
    async (consumed) => {
      const { kept: batch, dropped } = await dropErasedEmployees(consumed, stores.personalDataKeys)
      for (const d of dropped) logger.info(d, 'record of an erased employee dropped (GDPR erasure)')
      const outcomes = await processChanges(batch, {
        store: stores.eventStore,
        deadLetters: stores.deadLetters,
        tenantSettingsOf: ctx.tenantSettingsOf,
        now: ctx.now,
        cache: streamCache,
        concurrency: ctx.tuning.processor?.concurrency,
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
      error = null
    },
    {
      onError: (err) => {
        error = err
        logger.error({ err }, 'processing a change batch failed; it will be retried')
      },
    },
  )
  return {
    get error() {
      return error
    },
    stop: () => consumer.stop(),
  }
}
