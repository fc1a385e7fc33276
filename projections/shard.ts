// Projectors shard by tenant, the way processors scale by Kafka partitions: with N projector
// processes, projector i owns the tenants whose stable hash mod N is i, projects only their events
// and keeps its own checkpoint (guarded as a lone projector's: the checkpoint's lock and
// compare-and-set moves). A tenant's events all go to one shard, so its views keep their order and
// their cross-entity lookups (managers, teams, locations, shared emails), which never span tenants.
// A shard's read is filtered by tenant in the event store (ReadAllOptions.tenantShard, with the
// same hash, tenant-shard.ts), so it does not read the others' events. Changing N: see rebalance.ts.
import { KomboSyncError } from '../errors/kombo-sync-error.ts'
import { tenantHash, tenantInShard } from '../processors/eventstore/tenant-shard.ts'

export { tenantHash }

export interface TenantShard {
  /** 0 … count - 1 */
  index: number
  count: number
}

export const SINGLE_SHARD: TenantShard = { index: 0, count: 1 }

export class InvalidShardError extends KomboSyncError {
  override name = 'InvalidShardError'
  readonly retriable = false
}

/** `PROJECTOR_SHARD=i/N` (e.g. `0/4`); unset: one projector owns every tenant. */
export function parseShard(text: string | undefined): TenantShard {
  if (text === undefined || text.trim() === '') return SINGLE_SHARD
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text)
  const index = Number(match?.[1])
  const count = Number(match?.[2])
  if (!match || count < 1 || index >= count) {
    throw new InvalidShardError(`PROJECTOR_SHARD must be "i/N" with 0 <= i < N (e.g. "0/4"), not "${text}"`)
  }
  return { index, count }
}

/** Whether this shard owns the tenant (the hash memoised per tenant, tenant-shard.ts). */
export function ownsTenant(shard: TenantShard, tenant: string): boolean {
  return shard.count === 1 || tenantInShard(shard, tenant)
}

/** The shard's checkpoint: the projection's own name for a lone projector (so N=1 is today's). */
export function shardCheckpointName(base: string, shard: TenantShard): string {
  return shard.count === 1 ? base : `${base}@${shard.index}/${shard.count}`
}

/** The shard a checkpoint name belongs to (shardCheckpointName's inverse); null for another projection's. */
export function shardOfCheckpoint(base: string, name: string): TenantShard | null {
  if (name === base) return SINGLE_SHARD
  if (!name.startsWith(`${base}@`)) return null
  const match = /^(\d+)\/(\d+)$/.exec(name.slice(base.length + 1))
  const [index, count] = [Number(match?.[1]), Number(match?.[2])]
  return match && count >= 1 && index < count ? { index, count } : null
}
