// The projector role: the views' projector, the clock on its interval, and the downstream user
// feed (Kafka only) from its own checkpoint.
import { Projector } from '../../projections/projector.ts'
import { runClockTick } from '../../projections/clock.ts'
import { startUserFeed } from '../user-feed.ts'
import type { RoleContext, RoleHandle } from './context.ts'

export interface ProjectorRole extends RoleHandle {
  projector: Projector
}

/** One clock tick now (tests and the CLI use it; the projector role also runs it on an interval). */
export function clockTicker(ctx: Pick<RoleContext, 'stores' | 'metrics' | 'invitePolicyOf' | 'now'>): () => Promise<number> {
  return () =>
    runClockTick({ store: ctx.stores.eventStore, views: ctx.stores.views, invitePolicyOf: ctx.invitePolicyOf, now: ctx.now }).then((n) => {
      ctx.metrics.clockEvents.inc(n)
      return n
    })
}

export async function startProjectorRole(ctx: RoleContext, tickClock: () => Promise<number>): Promise<ProjectorRole> {
  const { stores, metrics, logger } = ctx
  const stoppers: Array<() => Promise<void>> = []
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch((err: Error) => logger.error({ err }, 'error while stopping'))
  }
  const projector = new Projector({
    store: stores.eventStore,
    views: stores.views,
    onApplied: ({ events, position }) => {
      metrics.projectedEvents.inc(events)
      metrics.projectionPosition.set(Number(position))
    },
    onError: (err) => logger.error({ err }, 'projection failed; retrying'),
  })
  try {
    await projector.start()
    stoppers.push(() => projector.stop())
    // The downstream user feed (Kafka only), from its own checkpoint: see docs/user-events-feed.md.
    const userFeed = await startUserFeed(ctx.config, { stores, metrics, logger })
    if (userFeed) stoppers.push(() => userFeed.stop())
    const timer = setInterval(() => {
      tickClock().catch((err: Error) => logger.error({ err }, 'clock tick failed'))
    }, ctx.config.clockIntervalMs)
    stoppers.push(async () => clearInterval(timer))
  } catch (err) {
    await stop()
    throw err
  }
  return { projector, stop }
}
