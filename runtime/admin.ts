// Operator commands: rebuild the views, list dead letters, re-drive them into the change log.
// `dead-letters [--all] [--tenant t]`, `redrive [id …] [--tenant t]` (with a progress line every few seconds).
import type { Config } from '../config/config.ts'
import type { Logger } from './logger.ts'
import { formatRebuild, PROGRESS_INTERVAL_MS, rebuildProgress, startWorkReporter } from './progress.ts'
import { openStores, type Stores } from './stores.ts'
import { Projector, projectedStreamPrefixes } from '../projections/projector.ts'
import type { ProjectionSettings } from '../projections/apply-events.ts'
import { TenantDirectory } from '../tenants/directory.ts'
import { EmployeeNotFoundError } from '../processors/commands/erase-employee.ts'
import { eraserOf } from './erasure.ts'
import { belongsToTenant, redriveDeadLetters } from './dead-letters.ts'
import { PROCESSOR_GROUP } from './processor-group.ts'
import { replayChangeLog, replayUserFeed, UsageError } from './replay-commands.ts'
import { ConsumerGroupActiveError } from '../producers/changelog/replay.ts'
import { rebalanceProjectors } from './rebalance-projectors.ts'

export const adminCommands = ['rebuild', 'dead-letters', 'redrive', 'erase', 'replay', 'feed-replay', 'rebalance-projectors'] as const

/** `--tenant acme` → 'acme'. */
const optionValue = (args: string[], name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

export async function runAdminCommand(command: string, args: string[], config: Config, logger: Logger): Promise<number> {
  const stores = await openStores(config)
  try {
    switch (command) {
      case 'rebuild':
        await rebuildViews(stores, logger, { settings: await projectionSettingsOf(stores) })
        return 0
      case 'dead-letters': {
        const tenant = optionValue(args, '--tenant')
        const letters = await stores.deadLetters.list({ includeRedriven: args.includes('--all') })
        for (const letter of letters.filter((l) => tenant === undefined || belongsToTenant(l, tenant))) {
          process.stdout.write(`${JSON.stringify({ ...letter, raw: letter.raw.toString('base64') })}\n`)
        }
        return 0
      }
      case 'redrive': {
        const tenant = optionValue(args, '--tenant')
        const ids = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--tenant')
        const result = await redriveWithProgress(stores, ids.length ? ids : null, { tenant }, logger)
        return result.failed.length ? 1 : 0
      }
      case 'erase': {
        // `erase <tenant> <employeeId> --reason <why> [--actor <who>]`: GDPR erasure, audited.
        const [tenant, employeeId] = args.filter((a, i) => !a.startsWith('--') && !['--reason', '--actor'].includes(args[i - 1]))
        const reason = optionValue(args, '--reason')
        if (!tenant || !employeeId || !reason) {
          process.stderr.write('usage: kombo-sync erase <tenant> <employeeId> --reason <why> [--actor <who>]\n')
          return 2
        }
        try {
          const result = await eraserOf(stores)({ tenant, employeeId, reason, actor: optionValue(args, '--actor') ?? 'cli' })
          process.stdout.write(`${JSON.stringify(result)}\n`)
          return 0
        } catch (err) {
          if (err instanceof EmployeeNotFoundError) {
            process.stderr.write(`${err.message}\n`)
            return 1
          }
          throw err
        }
      }
      case 'replay':
      case 'feed-replay': {
        // Stop the processors (replay) / the projector (feed-replay) first: see replay-commands.ts.
        try {
          const result = command === 'replay' ? await replayChangeLog(args, config, stores, PROCESSOR_GROUP, logger) : await replayUserFeed(args, stores, logger)
          process.stdout.write(`${JSON.stringify(result)}\n`)
          return 0
        } catch (err) {
          if (!(err instanceof UsageError || err instanceof ConsumerGroupActiveError)) throw err
          process.stderr.write(`${err.message}\n`)
          return 2
        }
      }
      case 'rebalance-projectors':
        try {
          const result = await rebalanceProjectors(args, stores, await projectionSettingsOf(stores), logger)
          process.stdout.write(`${JSON.stringify({ ...result, position: result.position?.toString() ?? null })}\n`)
          return 0
        } catch (err) {
          if (!(err instanceof UsageError)) throw err
          process.stderr.write(`${err.message}\n`)
          return 2
        }
      default:
        throw new Error(`unknown command ${command}`)
    }
  } finally {
    await stores.close()
  }
}

/** `redrive`: re-drives the letters, logging `redrive: 120 of 4,000 dead letters · 3% · …` every few seconds. */
export async function redriveWithProgress(
  stores: Pick<Stores, 'deadLetters' | 'changeLog'>,
  ids: string[] | null,
  filter: { tenant?: string },
  logger: Logger,
  o: { intervalMs?: number; now?: () => number } = {},
): Promise<Awaited<ReturnType<typeof redriveDeadLetters>>> {
  let through = { done: 0, total: null as number | null }
  const reporter = startWorkReporter({ what: 'redrive', unit: 'dead letters', read: () => through, logger, now: o.now, intervalMs: o.intervalMs })
  try {
    const result = await redriveDeadLetters(stores, ids, filter, (p) => (through = p))
    reporter.line()
    logger.info(result, 'dead letters re-driven')
    return result
  } finally {
    reporter.stop()
  }
}

/**
 * Events per view transaction during a rebuild. A rebuild is one long catch-up, so its batches are
 * large: an entity's many events fold into one state write and one user write per batch, and the
 * per-batch reads (users to recompute, shared emails) run once per many events. Each batch still
 * commits in one transaction; the checkpoint moves with the batches that write the carried states
 * (below), so an interrupted rebuild resumes from the last of those.
 */
export const REBUILD_BATCH_SIZE = 50_000
/**
 * Entity states a rebuild carries from batch to batch before it writes them all (and moves the
 * checkpoint): each batch touches most of a company's employees, so without this every batch wrote
 * (and read back) nearly every state again. A batch holds the states it touches in memory anyway;
 * carrying keeps up to this many between batches (~4.5 KB of JSON each for an employee). The users
 * of the employees changed meanwhile are recomputed and written only then too, once each
 * (projections/deferred-users.ts).
 */
export const REBUILD_CARRIED_STATES = 25_000

/** The tenants' time zones as the tenant table has them now (a rebuild computes every user's status with them). */
async function projectionSettingsOf(stores: Stores): Promise<ProjectionSettings> {
  const directory = await TenantDirectory.open(stores.tenants)
  return { timeZoneOf: (tenant) => directory.settingsOf(tenant)?.timeZone ?? 'UTC' }
}

/** Drops the views and projects the whole event store again; resolves when caught up. */
export async function rebuildViews(
  stores: Stores,
  logger: Logger,
  options: {
    batchSize?: number
    /** States carried between batches before they are written (0: every batch writes its own). */
    carryStates?: number
    settings?: ProjectionSettings
    onApplied?: (info: { events: number; position: bigint }) => void
    /** How often the progress line is logged (default 5 s). */
    progressIntervalMs?: number
  } = {},
): Promise<{ events: number }> {
  let applied = 0
  const projector = new Projector({
    store: stores.eventStore,
    views: stores.views,
    erasures: stores.personalDataKeys,
    settings: options.settings,
    batchSize: options.batchSize ?? REBUILD_BATCH_SIZE,
    carryStates: options.carryStates ?? REBUILD_CARRIED_STATES,
    // Batches are cut by size; the last, partial one is handled below once everything has arrived.
    flushAfterMs: 60_000,
    onApplied: (info) => {
      applied += info.events
      reached = info.position
      options.onApplied?.(info)
    },
  })
  const startedAt = Date.now()
  let reached = 0n
  let total: bigint | null = null
  // Progress every ~5 s: its total is the event store's last position (known once scanned).
  const progress = setInterval(() => {
    if (total === null) logger.info({ events: applied }, `rebuild: ${applied.toLocaleString('en-US')} events applied · total not yet known`)
    else {
      const p = rebuildProgress(Number(reached), Number(total), Date.now() - startedAt)
      logger.info({ events: applied, ...p }, formatRebuild(p))
    }
  }, options.progressIntervalMs ?? PROGRESS_INTERVAL_MS)
  progress.unref()
  try {
    // The change log's secondary indexes are built once at the end, not updated row by row.
    await stores.views.suspendIndexes()
    await projector.rebuild()
    const last = await lastPosition(stores)
    total = last ?? 0n
    // Handled (each batch retried until it succeeds) as soon as the last event has arrived.
    if (last !== null) await projector.caughtUp(last)
    await projector.settleStates()
    await stores.views.restoreIndexes()
  } catch (err) {
    await projector.stop().catch(() => {})
    // Best effort: should this fail too, the next open of the view store restores them.
    await stores.views.restoreIndexes().catch((restoreErr: unknown) => logger.warn({ err: restoreErr }, 'rebuild: indexes not restored; the next start restores them'))
    throw err
  } finally {
    clearInterval(progress)
  }
  await projector.stop()
  logger.info({ events: applied }, 'views rebuilt')
  return { events: applied }
}

/** The last event the rebuild will see: read from the end of the store, not by reading it all. */
async function lastPosition(stores: Stores): Promise<bigint | null> {
  const [last] = await stores.eventStore.readAllBackwards({ maxCount: 1, streamPrefixes: projectedStreamPrefixes })
  return last?.position ?? null
}
