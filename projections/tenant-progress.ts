// How far the views are behind on one tenant: the tenant's events appended to the event store
// after the checkpoint of the projector that owns the tenant (with shards, each shard has its own
// checkpoint, shard.ts), i.e. decided by the processors but not yet visible in the API. The
// poller's per-tenant backlog budget (producers/tenant-budget.ts) adds this to the records the
// processors have not committed: the projector is the slower stage, and without it a big tenant's
// processed events pile up before the projector and a small tenant's change waits behind them.
import type { EventStore } from '../processors/eventstore/port.ts'
import type { ViewWriter } from './viewstore/port.ts'
import { VIEWS_CHECKPOINT, projectedStreamPrefixes } from './projection.ts'
import { ownsTenant, shardOfCheckpoint } from './shard.ts'

/** The tenant's projected streams: `employee-acme_`, `team-acme_` … (schemas/streams.ts: `{category}-{tenant}_{id}`). */
export function tenantStreamPrefixes(tenant: string): string[] {
  return projectedStreamPrefixes.map((prefix) => `${prefix}${tenant}_`)
}

/**
 * Where the views stand for the tenant: the position of the views checkpoint whose shard owns it;
 * null when none does (nothing of it projected yet, or a rebuild just reset it). Two owners exist
 * only around a rebalance (or a checkpoint left behind by a shard count no longer run): the
 * furthest is taken, so a stale checkpoint can make the budget count less, never hold a tenant.
 */
export function tenantCheckpoint(checkpoints: ReadonlyMap<string, bigint>, tenant: string): bigint | null {
  let at: bigint | null = null
  for (const [name, position] of checkpoints) {
    const shard = shardOfCheckpoint(VIEWS_CHECKPOINT, name)
    if (shard && ownsTenant(shard, tenant) && (at === null || position > at)) at = position
  }
  return at
}

export interface UnprojectedEventsSource {
  store: Pick<EventStore, 'countAll'>
  views: Pick<ViewWriter, 'checkpoints'>
}

/**
 * The tenant's events not yet projected, counted up to `upTo`: one read of the checkpoints and one
 * count in the event store from the tenant's checkpoint (EventStore.countAll). Its cost grows with
 * every tenant's events after that checkpoint, which the budget itself keeps short.
 */
export function unprojectedEvents(source: UnprojectedEventsSource): (tenant: string, upTo: number) => Promise<number> {
  return async (tenant, upTo) => {
    if (!(upTo > 0)) return 0
    return countTenantEventsAfter(source.store, tenant, tenantCheckpoint(await source.views.checkpoints(), tenant), upTo)
  }
}

/** The tenant's events in the store after `after` (null: from the beginning), counted up to `upTo`. */
export function countTenantEventsAfter(store: Pick<EventStore, 'countAll'>, tenant: string, after: bigint | null, upTo: number): Promise<number> {
  return store.countAll({ after: after ?? undefined, streamPrefixes: tenantStreamPrefixes(tenant), upTo })
}
