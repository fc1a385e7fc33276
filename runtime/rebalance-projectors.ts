// `kombo-sync rebalance-projectors --from N --to M`: changes the number of projector shards
// (PROJECTOR_SHARD=i/N → i/M) with every projector stopped. The move itself is
// projections/rebalance.ts (a barrier position, then the new checkpoints in one transaction); this
// is its operator command: arguments checked before anything is touched, the result printed as one
// JSON line. A projector still running holds its checkpoint's lock, so the move waits for it
// rather than racing it — the operator stops the projectors first (docs/operations.md).
import type { Logger } from './logger.ts'
import type { Stores } from './stores.ts'
import type { ProjectionSettings } from '../projections/apply-events.ts'
import { rebalanceShards, type RebalanceResult } from '../projections/rebalance.ts'
import { UsageError } from './replay-commands.ts'

const USAGE = 'usage: kombo-sync rebalance-projectors --from N --to M   (stop every projector first; N and M are shard counts, 1 = one projector)'
/** More shards than this is a typo, not a deployment: each shard holds a checkpoint lock meanwhile. */
const MAX_SHARDS = 1024

export interface RebalanceArgs {
  from: number
  to: number
}

export function parseRebalanceArgs(args: string[]): RebalanceArgs {
  const count = (name: '--from' | '--to'): number => {
    const i = args.indexOf(name)
    const value = i >= 0 ? args[i + 1] : undefined
    if (value === undefined) throw new UsageError(`${name} is missing; ${USAGE}`)
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_SHARDS) {
      throw new UsageError(`${name} takes a shard count from 1 to ${MAX_SHARDS}, got "${value}"; ${USAGE}`)
    }
    return Number(value)
  }
  const known = new Set(['--from', '--to'])
  const stray = args.filter((a, i) => a.startsWith('--') ? !known.has(a) : !known.has(args[i - 1] ?? ''))
  if (stray.length > 0) throw new UsageError(`unexpected argument ${stray.map((s) => `"${s}"`).join(', ')}; ${USAGE}`)
  const parsed = { from: count('--from'), to: count('--to') }
  if (parsed.from === parsed.to) throw new UsageError(`--from and --to are both ${parsed.from}: nothing to move; ${USAGE}`)
  return parsed
}

export async function rebalanceProjectors(
  args: string[],
  stores: Pick<Stores, 'eventStore' | 'views'>,
  settings: ProjectionSettings,
  logger: Logger,
): Promise<RebalanceResult & RebalanceArgs> {
  const { from, to } = parseRebalanceArgs(args)
  logger.info({ from, to }, 'rebalancing projector shards: lagging shards catch up to the furthest one, then the new checkpoints are set')
  const result = await rebalanceShards(stores.eventStore, stores.views, from, to, settings)
  logger.info({ from, to, position: result.position?.toString() ?? null, caughtUp: result.caughtUp }, 'projector shards rebalanced')
  return { from, to, ...result }
}
