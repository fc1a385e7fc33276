// tenantPending for the Kafka change log. Kafka cannot count one tenant's records past a group's
// committed offsets without reading them, so the adapter remembers where the records it produced
// landed — per tenant, the (topic, partition, offset) of each record still in flight — and drops
// those at or below the group's committed offsets (fetched at most once per `ttlMs`).
// Bounded: only tenants someone asked about are tracked (the backlog budget asks before every page
// it lets through, and stops publishing past its limit), and every ask drops what was committed.
// Limits, by design: records published by another process (or before a restart) are not counted;
// one consumer group is expected to be asked about (the processors'): asking about another group
// would drop what that group committed.
import type { PartitionerArgs, RecordMetadata } from 'kafkajs'

type CommittedOffsets = Map<string, bigint>
const at = (topic: string, partition: number) => `${topic}\u0000${partition}`

export interface SentMessage {
  tenant: string
  topic: string
  /** The object handed to kafkajs (its partitioner sees the same object). */
  message: object
}

export class TenantInFlight {
  /** tenant → `topic\0partition` → offsets not yet seen committed. */
  private readonly inFlight = new Map<string, Map<string, bigint[]>>()
  private readonly partitionOf = new WeakMap<object, number>()
  private readonly committed = new Map<string, { fetchedAt: number; offsets: Promise<CommittedOffsets> }>()

  constructor(
    /** The group's committed offsets (the next offset it will read) by `topic\0partition`. */
    private readonly fetchCommitted: (group: string) => Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>,
    private readonly ttlMs = 500,
    private readonly now: () => number = Date.now,
  ) {}

  /** Wraps a partitioner so the partition each message was sent to is known afterwards. */
  partitioner(inner: (args: PartitionerArgs) => number): (args: PartitionerArgs) => number {
    return (args) => {
      const partition = inner(args)
      this.partitionOf.set(args.message, partition)
      return partition
    }
  }

  /**
   * After a send resolved: the records of a partition in one send are consecutive from the
   * partition's `baseOffset`, in the order they were handed over.
   */
  recordSent(sent: SentMessage[], result: RecordMetadata[]): void {
    if (!sent.some((s) => this.inFlight.has(s.tenant))) return
    const base = new Map(result.filter((r) => r.baseOffset !== undefined).map((r) => [at(r.topicName, r.partition), BigInt(r.baseOffset!)]))
    const nth = new Map<string, bigint>()
    for (const s of sent) {
      const partition = this.partitionOf.get(s.message)
      if (partition === undefined) continue
      const key = at(s.topic, partition)
      const first = base.get(key)
      if (first === undefined) continue
      const index = nth.get(key) ?? 0n
      nth.set(key, index + 1n)
      const tenant = this.inFlight.get(s.tenant)
      if (!tenant) continue
      if (!tenant.has(key)) tenant.set(key, [])
      tenant.get(key)!.push(first + index)
    }
  }

  async pending(group: string, tenant: string): Promise<number> {
    let mine = this.inFlight.get(tenant)
    if (!mine) this.inFlight.set(tenant, (mine = new Map()))
    if (mine.size === 0) return 0
    const committed = await this.committedOffsets(group)
    let count = 0
    for (const [key, offsets] of mine) {
      const next = committed.get(key) ?? -1n
      const left = offsets.filter((o) => o >= next)
      if (left.length === 0) mine.delete(key)
      else mine.set(key, left)
      count += left.length
    }
    return count
  }

  private committedOffsets(group: string): Promise<CommittedOffsets> {
    const cached = this.committed.get(group)
    if (cached && this.now() - cached.fetchedAt < this.ttlMs) return cached.offsets
    const offsets = this.fetchCommitted(group).then((topics) => {
      const map: CommittedOffsets = new Map()
      for (const t of topics) for (const p of t.partitions) map.set(at(t.topic, p.partition), BigInt(p.offset))
      return map
    })
    // A failed fetch is not cached: the next ask tries again.
    offsets.catch(() => {
      if (this.committed.get(group)?.offsets === offsets) this.committed.delete(group)
    })
    this.committed.set(group, { fetchedAt: this.now(), offsets })
    return offsets
  }
}
