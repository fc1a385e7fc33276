// The per-tenant budget's count of unprojected events (tenant-progress.ts), for every event store.
// Counted per tenant in the store, each waiting tenant, every check (200 ms), walks every other
// tenant's events behind the projector again: on EventStoreDB `countAll` is a read of $all with the
// client's prefix filter, on SQL the position index with the prefixes as a filter. 50 tenants of 2k
// syncing at once spent the process in those reads on EventStoreDB, and PostgreSQL in those counts
// (docs/benchmarks.md, 2026-12-07).
//
// Here one reader follows the log past the lowest views checkpoint for every tenant of the
// process: each question reads only what was appended since the last one (shared by concurrent
// questions), keeps the positions of each tenant's events the projector has not passed, and
// counts from them. The read is `withoutData`: no payload need leave the store, none is decoded
// (no personal data is opened).
// Bounded: past `maxTracked` positions (a projector far behind, a stale shard checkpoint) it lets
// go of them and asks `countAll`, as before, until the projector is close again.
import type { EventStore } from '../processors/eventstore/port.ts'
import { parseStreamName } from '../schemas/streams.ts'
import { VIEWS_CHECKPOINT, projectedStreamPrefixes } from './projection.ts'
import { shardOfCheckpoint } from './shard.ts'
import { countTenantEventsAfter, tenantCheckpoint, type UnprojectedEventsSource } from './tenant-progress.ts'

export interface UnprojectedTailSource extends UnprojectedEventsSource {
  store: Pick<EventStore, 'countAll' | 'readAll'>
}

export interface UnprojectedTailOptions {
  /** Positions kept at most (all tenants together) before falling back to countAll. */
  maxTracked?: number
  /** Events per read of the log. */
  pageSize?: number
}

/** Same answers as `unprojectedEvents(source)`, from one shared read of the log's tail. */
export function unprojectedEventsFromTail(source: UnprojectedTailSource, options: UnprojectedTailOptions = {}): (tenant: string, upTo: number) => Promise<number> {
  // Each tenant may run a budget (TENANT_BACKLOG_LIMIT, 500) plus a page (250 records, ~2.5 events
  // each) ahead of the projector: 50 tenants syncing at once kept ~55k positions, past the 50k this
  // was first, and fell back to countAll for most of the run (2026-12-07). A position costs ~32
  // bytes here (a bigint and its slot): 250k is ~8 MB, room for ~200 such tenants.
  const maxTracked = options.maxTracked ?? 250_000
  const pageSize = options.pageSize ?? 1_000
  /** Per tenant, the positions (ascending) of its events after the lowest checkpoint that were read. */
  const positions = new Map<string, bigint[]>()
  let tracked = 0
  /** Everything up to here is read; null: nothing is (the next read starts at the lowest checkpoint). */
  let readTo: bigint | null = null
  /** Set when more than maxTracked lay behind the projector: countAll answers until it passes this. */
  let tooFarBehindUntil: bigint | null = null
  let reading: Promise<boolean> | null = null

  const forget = () => {
    positions.clear()
    tracked = 0
    readTo = null
  }

  /** Reads what was appended since the last read; false when too much is behind the projector to keep. */
  async function readTail(lowest: bigint | null): Promise<boolean> {
    if (tooFarBehindUntil !== null) {
      if (lowest === null || lowest < tooFarBehindUntil) return false
      tooFarBehindUntil = null
    }
    if (readTo === null || (lowest !== null && lowest > readTo)) {
      forget()
      readTo = lowest
    } else if (lowest !== null) {
      tracked -= dropUpTo(positions, lowest)
    }
    for (;;) {
      const page = await source.store.readAll({ after: readTo ?? undefined, maxCount: pageSize, streamPrefixes: projectedStreamPrefixes, withoutData: true })
      for (const event of page) {
        const tenant = parseStreamName(event.streamName)?.tenant
        if (tenant === undefined) continue
        const list = positions.get(tenant)
        if (list) list.push(event.position)
        else positions.set(tenant, [event.position])
        tracked++
      }
      if (page.length > 0) readTo = page[page.length - 1].position
      if (tracked > maxTracked) {
        tooFarBehindUntil = readTo
        forget()
        return false
      }
      if (page.length < pageSize) return true
    }
  }

  return async (tenant, upTo) => {
    if (!(upTo > 0)) return 0
    const checkpoints = await source.views.checkpoints()
    const lowest = lowestViewsCheckpoint(checkpoints)
    const after = tenantCheckpoint(checkpoints, tenant)
    // Questions asked while a read is in flight share it (what is appended meanwhile is read by the next).
    reading ??= readTail(lowest).finally(() => (reading = null))
    // Past maxTracked; or no checkpoint of its own while others exist (a shard that has not written
    // one yet), so its events before the lowest checkpoint count too: only countAll reads those.
    if (!(await reading) || (after === null && lowest !== null)) return countTenantEventsAfter(source.store, tenant, after, upTo)
    return countAfter(positions.get(tenant) ?? [], after, upTo)
  }
}

/** The lowest views checkpoint (null: none written yet). */
function lowestViewsCheckpoint(checkpoints: ReadonlyMap<string, bigint>): bigint | null {
  let lowest: bigint | null = null
  for (const [name, position] of checkpoints) {
    if (shardOfCheckpoint(VIEWS_CHECKPOINT, name) && (lowest === null || position < lowest)) lowest = position
  }
  return lowest
}

/** Drops the positions at or below `to` (every views checkpoint has passed them); returns how many. */
function dropUpTo(positions: Map<string, bigint[]>, to: bigint): number {
  let dropped = 0
  for (const [tenant, list] of positions) {
    let i = 0
    while (i < list.length && list[i] <= to) i++
    if (i === 0) continue
    dropped += i
    if (i === list.length) positions.delete(tenant)
    else positions.set(tenant, list.slice(i))
  }
  return dropped
}

/** How many of the ascending `list` lie after `after` (null: all), at most `upTo`. */
function countAfter(list: bigint[], after: bigint | null, upTo: number): number {
  let n = 0
  for (let i = list.length - 1; i >= 0 && (after === null || list[i] > after) && n < upTo; i--) n++
  return n
}
