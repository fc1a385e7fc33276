// Which tenant an event belongs to, as a number the event store can filter on: the tenant of the
// event's stream (schemas/streams.ts) hashed with a stable hash. A projector shard i of N owns the
// tenants whose hash mod N is i (projections/shard.ts); a read given `ReadAllOptions.tenantShard`
// leaves the other tenants' events out in the store itself, so they never reach the reader.
import { createHash } from 'node:crypto'
import { parseStreamName, streamCategoryList } from '../../schemas/streams.ts'

/** Shard `index` of `count` (0 <= index < count): the tenants whose tenantHash mod count is index. */
export interface TenantShardFilter {
  index: number
  count: number
}

/** A stable hash (the first 4 bytes of sha256, unsigned), the same in every process and release. */
export function tenantHash(tenant: string): number {
  return createHash('sha256').update(tenant).digest().readUInt32BE(0)
}

const hashes = new Map<string, number>()
/** tenantHash memoised per tenant: readers ask per event, appends per stream. */
function memoisedTenantHash(tenant: string): number {
  let hash = hashes.get(tenant)
  if (hash === undefined) {
    hash = tenantHash(tenant)
    // Bounded: a deployment's tenant ids, not a company's records; cleared past a large count.
    if (hashes.size >= 100_000) hashes.clear()
    hashes.set(tenant, hash)
  }
  return hash
}

/** The tenant hash of the stream's tenant; null for a stream that is not a tenant's (system, foreign). */
export function streamTenantHash(streamName: string): number | null {
  const stream = parseStreamName(streamName)
  return stream === null ? null : memoisedTenantHash(stream.tenant)
}

/** Whether the tenant is in the shard. */
export function tenantInShard(shard: TenantShardFilter, tenant: string): boolean {
  return memoisedTenantHash(tenant) % shard.count === shard.index
}

/** Whether the stream's tenant is in the shard; a stream that is not a tenant's is in none. */
export function streamInShard(shard: TenantShardFilter, streamName: string): boolean {
  const hash = streamTenantHash(streamName)
  return hash !== null && hash % shard.count === shard.index
}

/**
 * The same hash in SQL, of a `stream_name` column: the tenant taken out by parseStreamName's
 * pattern, sha256, the first 4 bytes as an unsigned integer; NULL for a stream that is not a
 * tenant's. For backfilling rows written before the column existed (sql.test.ts checks that it
 * agrees with streamTenantHash).
 */
export function streamTenantHashSql(column: string): string {
  const categories = [...streamCategoryList].sort((a, b) => b.length - a.length).join('|')
  const tenant = `(regexp_match(${column}, '^(${categories})-([a-z0-9-]+)_(.+)$'))[2]`
  return `('x' || left(encode(sha256(convert_to(${tenant}, 'UTF8')), 'hex'), 8))::bit(32)::bigint`
}
