// A projection is data: its name (which is also its checkpoint's), which events it handles, and
// how a batch of them changes the views inside the batch's transaction. The runner (projector.ts)
// subscribes, batches, locks the checkpoint and moves it compare-and-set; a projection knows
// nothing of that.
import type { RecordedEvent, TenantShardFilter } from '../processors/eventstore/port.ts'
import type { ViewTransaction } from './viewstore/port.ts'
import { applyEvents, recomputeDeferredUsers, USERS_PER_RECOMPUTE, type ProjectionSettings } from './apply-events.ts'
import type { DeferUsers, UsersToRecompute } from './deferred-users.ts'
import { changeLogOf } from './audit/record-change-log.ts'
import { ourStreamPrefixes } from '../schemas/streams.ts'
import { shardCheckpointName, SINGLE_SHARD, type TenantShard } from './shard.ts'
import { streamInShard } from '../processors/eventstore/tenant-shard.ts'

export interface Projection {
  /** The projection's checkpoint. */
  name: string
  /** The streams it reads (the subscription's filter, applied by the event store). */
  streamPrefixes: string[]
  /** Whether an event delivered from those streams is one it applies. */
  canHandle(event: RecordedEvent): boolean
  /**
   * The streams whose event data it reads (ReadAllOptions.decodes; absent: all). Must hold for
   * every stream of an event `canHandle` accepts: events of other streams may arrive undecoded.
   */
  decodes?: (streamName: string) => boolean
  /**
   * The tenants whose events it reads (ReadAllOptions.tenantShard; absent: all), filtered in the
   * event store. Other tenants' events may still arrive (the read's last event): `canHandle` drops them.
   */
  tenantShard?: TenantShardFilter
  /**
   * Applies a batch of handled events; the runner commits it with the checkpoint. `deferUsers`
   * (a rebuild carrying states, when the projection has `recomputeUsers`): the users the batch would
   * recompute are recorded there instead.
   */
  apply(tx: ViewTransaction, events: RecordedEvent[], options?: { deferUsers?: DeferUsers }): Promise<void>
  /** Recomputes the users deferred by batches (deferred-users.ts), in the batch that settles them. */
  recomputeUsers?(tx: ViewTransaction, users: Map<string, UsersToRecompute>): Promise<void>
}

export const VIEWS_CHECKPOINT = 'learnamp-views'
/** Our streams; system and foreign streams in the store are not ours to project. */
export const projectedStreamPrefixes = [...ourStreamPrefixes]

/**
 * The Learn Amp views: users, teams, locations and the entity states they are computed from, and
 * the audit change log. `shard`: only the tenants it owns, into its own checkpoint (see shard.ts).
 */
export const learnAmpViews = (settings: ProjectionSettings, shard: TenantShard = SINGLE_SHARD): Projection => ({
  name: shardCheckpointName(VIEWS_CHECKPOINT, shard),
  streamPrefixes: projectedStreamPrefixes,
  canHandle: (event) => projectedStreamPrefixes.some((p) => event.streamName.startsWith(p)) && ownsStream(shard, event.streamName),
  // A shard reads only its tenants' events (the store filters), and drops by name any other
  // tenant's that still arrives (a read's last event): it never needs their keys or plaintext.
  ...(shard.count > 1 ? { tenantShard: shard, decodes: (streamName: string) => ownsStream(shard, streamName) } : {}),
  apply: async (tx, events, options) => {
    await applyEvents(tx, events, settings, [changeLogOf(settings)], USERS_PER_RECOMPUTE, options?.deferUsers)
  },
  recomputeUsers: (tx, users) => recomputeDeferredUsers(tx, users, settings),
})

function ownsStream(shard: TenantShard, streamName: string): boolean {
  return shard.count === 1 || streamInShard(shard, streamName)
}
