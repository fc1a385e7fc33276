// Operator commands that send data through again:
//   `replay --from-offset N | --from-time ISO [--resource employees]` moves the processors'
//     consumer group back in the change log (Kafka offsets, or the SQL table's committed sequence);
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

export async function replayChangeLog(args: string[], config: Config, stores: Pick<Stores, 'db'>, group: string, logger: Logger) {
  const { from, resources } = parseReplayArgs(args)
  const positions = config.kafka
    ? await replayKafkaChangeLog({ brokers: config.kafka.brokers, clientId: 'kombo-sync-admin', topicPrefix: config.kafka.topicPrefix }, group, from, resources)
    : await replaySqlChangeLog(stores.db, group, from, resources)
  logger.info({ group, positions: positions.length }, 'change log replay: processors will re-read from these offsets when they start')
  return positions
}

export async function replayUserFeed(args: string[], stores: Pick<Stores, 'db'>, logger: Logger): Promise<{ after: string | null }> {
  const raw = optionValue(args, '--from-position')
  const after = raw === undefined ? null : integer(raw, '--from-position')
  await sqlFeedCheckpoints(stores.db).setCheckpoint(USER_FEED_CHECKPOINT, after)
  logger.info({ after: after?.toString() ?? 'start' }, 'user feed checkpoint moved: the projector role re-sends from there when it starts')
  return { after: after?.toString() ?? null }
}
