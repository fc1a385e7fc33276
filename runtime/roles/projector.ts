// The projector role: the views' projector, the clock on its interval, and the downstream user
// feed (Kafka only) from its own checkpoint.
import { Projector } from '../../projections/projector.ts'
import { runClockTick, type ClockTickResult } from '../../processors/clock.ts'
import { startUserFeed } from '../user-feed.ts'
import { massDeactivationGuardOf, reportOpenHolds } from '../mass-deactivation.ts'
import { markUninvitedEmployeesDue } from '../../projections/viewstore/tenant-employees.ts'
import type { TenantChangeSeen } from '../../tenants/directory.ts'
import type { RoleContext, RoleHandle } from './context.ts'

export interface ProjectorRole extends RoleHandle {
  projector: Projector
  /** Events skipped since this process started (each kept in projection_dead_letters). */
  readonly skipped: number
}

/** One clock tick now (tests and the CLI use it; the projector role also runs it on an interval). */
export function clockTicker(ctx: Pick<RoleContext, 'stores' | 'metrics' | 'tenantSettingsOf' | 'now' | 'logger'>): () => Promise<ClockTickResult> {
  return () =>
    runClockTick({ store: ctx.stores.eventStore, views: ctx.stores.views, tenantSettingsOf: ctx.tenantSettingsOf, now: ctx.now, massDeactivation: massDeactivationGuardOf(ctx.stores) }).then(async (tick) => {
      ctx.metrics.clockEvents.inc(tick.appended)
      for (const round of tick.rounds) if (round.kind === 'held' && round.users > 0) ctx.logger.warn({ tenant: round.tenant, holdId: round.holdId, users: round.users }, 'mass deactivation held: release or discard it (POST /v1/tenants/{tenant}/holds/{id}/release | discard)')
      await reportOpenHolds(ctx.stores, ctx.metrics).catch((err: Error) => ctx.logger.warn({ err }, 'counting open holds failed'))
      for (const { tenant, employeeId, reason } of tick.gaveUp) {
        ctx.metrics.clockGaveUp.inc({ tenant })
        ctx.logger.warn({ tenant, employeeId, reason }, 'clock gave up on an employee whose stream kept changing; it stays due for the next tick')
      }
      return tick
    })
}

const decidesInvitesAgain = ({ before, after }: TenantChangeSeen) =>
  before !== undefined &&
  (JSON.stringify(before.settings.invitePolicy) !== JSON.stringify(after.settings.invitePolicy) || before.settings.timeZone !== after.settings.timeZone)

export async function startProjectorRole(ctx: RoleContext, tickClock: () => Promise<ClockTickResult>): Promise<ProjectorRole> {
  const { stores, metrics, logger } = ctx
  const stoppers: Array<() => Promise<void>> = []
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch((err: Error) => logger.error({ err }, 'error while stopping'))
  }
  let skipped = 0
  // PROJECTOR_SHARD=i/N: this process owns the tenants whose hash mod N is i (projections/shard.ts).
  const shard = ctx.config.projectorShard
  const projector = new Projector({
    store: stores.eventStore,
    views: stores.views,
    erasures: stores.personalDataKeys,
    settings: { timeZoneOf: ctx.timeZoneOf },
    shard,
    onApplied: ({ events, position }) => {
      metrics.projectedEvents.inc(events)
      metrics.projectionPosition.set(Number(position))
    },
    onSkipped: (info) => {
      skipped++
      metrics.projectionSkippedEvents.inc()
      logger.error(info, 'event skipped by the projector: it kept failing alone (see projection_dead_letters)')
    },
    onError: (err) => logger.error({ err }, 'projection failed; retrying'),
  })
  try {
    await projector.start()
    stoppers.push(() => projector.stop())
    // The downstream user feed (Kafka only), from its own checkpoint: see docs/user-events-feed.md.
    // One publisher per deployment (it holds the feed's checkpoint lock): the first shard runs it.
    const userFeed = shard.index === 0 ? await startUserFeed(ctx.config, { stores, metrics, logger }) : null
    if (userFeed) stoppers.push(() => userFeed.stop())
    // The feed takes the views' events while level with them instead of reading and opening the
    // log a second time (BatchedSubscription.follow; not when this projector is one shard of several).
    userFeed?.publisher.follow(projector)
    const timer = setInterval(() => {
      tickClock().catch((err: Error) => logger.error({ err }, 'clock tick failed'))
    }, ctx.config.clockIntervalMs)
    stoppers.push(async () => clearInterval(timer))
    // A changed invite policy or time zone: the tenant's users not yet invited are decided again
    // now, with the directory's new settings, not at the next clock interval. Marked here (after
    // this process's directory has the new settings) as well as by the writer, so a clock tick
    // between the write and this refresh cannot snooze them under the old settings.
    const unsubscribe = ctx.tenants.subscribe(async (changes) => {
      const redecide = changes.filter(decidesInvitesAgain)
      if (redecide.length === 0) return
      for (const c of redecide) await markUninvitedEmployeesDue(stores.db, c.after.id, ctx.now())
      const appended = await tickClock()
      logger.info({ tenants: redecide.map((c) => c.after.id), appended }, 'invites decided again under the new tenant settings')
    })
    stoppers.push(async () => unsubscribe())
  } catch (err) {
    await stop()
    throw err
  }
  return {
    projector,
    get skipped() {
      return skipped
    },
    stop,
  }
}
