// Changing the number of projector shards (N → M), with every projector stopped. Each new shard
// must start where every tenant it takes over stands, and tenants come from every old shard, each
// at its own checkpoint. So first every old shard is brought to one barrier position P (the
// furthest old checkpoint: the others project their own tenants' events up to P, no further);
// then, in one transaction, the M new checkpoints are set to P and the old ones removed. Every
// tenant's views then stand exactly at P, and each new shard goes on from P: nothing is applied
// twice (a state folded twice would be wrong) and nothing is skipped. All checkpoints involved are
// locked meanwhile, so a projector started too early is refused rather than racing the move.
import type { EventStore, RecordedEvent } from '../processors/eventstore/port.ts'
import type { CheckpointLock, ViewWriter } from './viewstore/port.ts'
import { learnAmpViews } from './projection.ts'
import { utcEverywhere, type ProjectionSettings } from './apply-events.ts'
import type { TenantShard } from './shard.ts'

const PAGE = 5_000

const shardsOf = (count: number): TenantShard[] => Array.from({ length: count }, (_, index) => ({ index, count }))

export interface RebalanceResult {
  /** Where every tenant's views stand, and each new shard starts (null: nothing projected yet). */
  position: bigint | null
  /** Events the lagging old shards applied to reach it. */
  caughtUp: number
}

export async function rebalanceShards(
  store: EventStore,
  views: ViewWriter,
  from: number,
  to: number,
  settings: ProjectionSettings = utcEverywhere,
): Promise<RebalanceResult> {
  const old = shardsOf(from).map((shard) => learnAmpViews(settings, shard))
  const next = shardsOf(to).map((shard) => learnAmpViews(settings, shard))
  const names = [...new Set([...old, ...next].map((p) => p.name))]
  const locks: CheckpointLock[] = []
  try {
    for (const name of names) locks.push(await views.lockCheckpoint(name))
    const positions = new Map<string, bigint | null>()
    for (const name of names) positions.set(name, await views.checkpoint(name))
    const barrier = old.reduce<bigint | null>((max, p) => maxOf(max, positions.get(p.name) ?? null), null)
    let caughtUp = 0
    for (const projection of old) {
      let at = positions.get(projection.name) ?? null
      // Its own tenants' events only, up to the barrier: one transaction per page, checkpoint CAS.
      // The store leaves the other tenants' events out (tenantShard), as for the shard's projector;
      // any that still arrive (a read's last event) are dropped by canHandle. The read may then
      // stop short of the barrier (no own event after `at`): the shard's tenants stand at it anyway.
      while (barrier !== null && (at === null || at < barrier)) {
        const page = (
          await store.readAll({ after: at ?? undefined, maxCount: PAGE, streamPrefixes: projection.streamPrefixes, decodes: projection.decodes, tenantShard: projection.tenantShard })
        ).filter((e) => e.position <= barrier)
        if (page.length === 0) break
        const position = page[page.length - 1].position
        const handled: RecordedEvent[] = page.filter((e) => projection.canHandle(e))
        const expected = at
        await views.transaction(async (tx) => {
          if (handled.length > 0) await projection.apply(tx, handled)
          await tx.setCheckpoint(projection.name, position, expected)
        })
        caughtUp += handled.length
        at = position
      }
      positions.set(projection.name, at)
    }
    await views.transaction(async (tx) => {
      for (const projection of next) {
        if (barrier !== null) await tx.setCheckpoint(projection.name, barrier, positions.get(projection.name) ?? null)
      }
      const gone = old.map((p) => p.name).filter((name) => !next.some((p) => p.name === name))
      if (gone.length > 0) await tx.sql.query('DELETE FROM projection_checkpoints WHERE name = ANY($1::text[])', [gone])
    })
    return { position: barrier, caughtUp }
  } finally {
    for (const lock of locks.reverse()) await lock.release()
  }
}

const maxOf = (a: bigint | null, b: bigint | null) => (a === null ? b : b === null ? a : a > b ? a : b)

