// Operator commands that send data through again:
//   `replay --from-offset N | --from-time ISO [--resource employees] [--follow]` moves the
//     processors' consumer group back in the change log (Kafka offsets, or the SQL table's
//     committed sequence); with --follow it then stays, logging every few seconds how far the
//     processors (started by the operator) have re-read, until they have caught up;
//   `feed-replay [--from-position N]` moves the user feed's checkpoint back (to the start, or to
//     just after event-store position N), so the feed re-sends those user events.
// Both need the reading role stopped first (processors for `replay`, the projector for
// `feed-replay`): a running reader keeps its position in memory and would write it back.
import type { Config } from '../config/config.ts'
import type { Logger } from './logger.ts'
import type { Stores } from './stores.ts'
import { komboResources, type KomboResource } from '../schemas/kombo.ts'
import { replayKafkaChangeLog, replaySqlChangeLog, type ReplayFrom } from '../producers/changelog/replay.ts'
import { sqlFeedCheckpoints } from '../projections/user-feed/checkpoints.ts'
import { USER_FEED_CHECKPOINT } from '../projections/user-feed/publisher.ts'
import { KomboSyncError } from '../errors/kombo-sync-error.ts'
import { PROGRESS_INTERVAL_MS, startWorkReporter } from './progress.ts'

/** A command line that cannot be run as given; the message says how to call it. */
export class UsageError extends KomboSyncError {
  override name = 'UsageError'
  readonly retriable = false
}

const optionValue = (args: string[], name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

const integer = (value: string, name: string): bigint => {
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} takes a non-negative integer, got "${value}"`)
  return BigInt(value)
}

export function parseReplayArgs(args: string[]): { from: ReplayFrom; resources: KomboResource[] } {
  const offset = optionValue(args, '--from-offset')
  const time = optionValue(args, '--from-time')
  if ((offset === undefined) === (time === undefined)) {
    throw new UsageError('usage: kombo-sync replay --from-offset N | --from-time ISO-8601 [--resource employees]')
  }
  let from: ReplayFrom
  if (offset !== undefined) from = { offset: integer(offset, '--from-offset') }
  else {
    const at = new Date(time!)
    if (Number.isNaN(at.getTime())) throw new UsageError(`--from-time takes an ISO-8601 date-time, got "${time}"`)
    from = { time: at }
  }
  const resource = optionValue(args, '--resource')
  if (resource !== undefined && !(komboResources as readonly string[]).includes(resource)) {
    throw new UsageError(`--resource is one of ${komboResources.join(', ')}, got "${resource}"`)
  }
  return { from, resources: resource ? [resource as KomboResource] : [...komboResources] }
}

export interface FollowOptions {
  /** How often the progress line is logged (default 5 s). */
  intervalMs?: number
  /** How often the group's lag is read (default 1 s). */
  pollMs?: number
  /** The clock the rate is measured with (tests). */
  now?: () => number
}

export async function replayChangeLog(
  args: string[],
  config: Config,
  stores: Pick<Stores, 'db' | 'changeLog'>,
  group: string,
  logger: Logger,
  follow: FollowOptions = {},
) {
  const { from, resources } = parseReplayArgs(args)
  const positions = config.kafka
    ? await replayKafkaChangeLog({ brokers: config.kafka.brokers, clientId: 'kombo-sync-admin', topicPrefix: config.kafka.topicPrefix }, group, from, resources)
    : await replaySqlChangeLog(stores.db, group, from, resources)
  if (!args.includes('--follow')) {
    logger.info({ group, positions: positions.length }, 'change log replay: processors will re-read from these offsets when they start')
    return positions
  }
  logger.info({ group, positions: positions.length }, 'change log replay: start the processors; following their progress (Ctrl-C stops following, the replay stays)')
  await followReplay(stores.changeLog, group, resources, logger, follow)
  return positions
}

/**
 * Waits until the group has nothing pending over `resources`, logging progress meanwhile. The
 * total is the group's lag right after the replay; records published since (a running poller)
 * add to what is pending, so "done" is what the replay's backlog has shrunk by.
 */
export async function followReplay(
  changeLog: Pick<Stores['changeLog'], 'pending'>,
  group: string,
  resources: KomboResource[],
  logger: Logger,
  o: FollowOptions = {},
): Promise<{ total: number }> {
  const total = await changeLog.pending(group, resources)
  let pending = total
  const reporter = startWorkReporter({
    what: 'replay',
    unit: 'records',
    read: () => ({ done: Math.max(0, total - pending), total }),
    logger,
    now: o.now,
    intervalMs: o.intervalMs ?? PROGRESS_INTERVAL_MS,
  })
  try {
    while (pending > 0) {
      await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 1000))
      pending = await changeLog.pending(group, resources)
    }
  } finally {
    reporter.stop()
  }
  reporter.line()
  logger.info({ group, records: total }, 'change log replay: the processors have re-read everything')
  return { total }
}

export async function replayUserFeed(args: string[], stores: Pick<Stores, 'db'>, logger: Logger): Promise<{ after: string | null }> {
  const raw = optionValue(args, '--from-position')
  const after = raw === undefined ? null : integer(raw, '--from-position')
  await sqlFeedCheckpoints(stores.db).setCheckpoint(USER_FEED_CHECKPOINT, after)
  logger.info({ after: after?.toString() ?? 'start' }, 'user feed checkpoint moved: the projector role re-sends from there when it starts')
  return { after: after?.toString() ?? null }
}
