// The per-tenant backlog budget: before a tenant's poller publishes a page, it waits while that
// tenant already has `limit` or more of its work in the pipeline and not yet visible: records in
// the change log the processors have not committed, plus its events in the event store the
// projector has not applied (`unprojected`, projections/tenant-progress.ts). One tenant's initial
// listing (100k records) then sits in Kombo, not in the change log or before the projector, so
// another tenant's change waits behind at most about `limit` of its records or events instead of
// the whole listing (no head-of-line blocking). The big tenant's sync is paced by the slower of the
// processors and the projector, which it was anyway. docs/operations.md ("Per-tenant backlog budget").
import { setTimeout as sleep } from 'node:timers/promises'
import type { ChangeLog } from './changelog/port.ts'

export interface TenantBudgetOptions {
  changeLog: Pick<ChangeLog, 'tenantPending'>
  /** The consumer group whose uncommitted records count (the processors'). */
  group: string
  /**
   * The tenant's events the projector has not applied yet, counted up to `upTo` (asked only when
   * the records pending are below the limit, for the room left). Absent: the processors' backlog only.
   */
  unprojected?: (tenant: string, upTo: number) => Promise<number>
  /** Pending records (plus unprojected events) of one tenant at which its publishing waits; 0 turns the budget off. */
  limit: number
  /**
   * Whether the asking tenant may run ALONE_FACTOR × limit ahead (see there): the only tenant this
   * poller polls, in its initial sync. Absent: never.
   */
  alone?: (tenant: string) => boolean
  /** How often a waiting publish asks again. */
  checkMs: number
  /** A publish began waiting, with the tenant's backlog as counted (for logs). */
  onWait?: (tenant: string, backlog: number) => void
  /** A wait ended, by the backlog dropping or by the stop signal (for metrics and logs). */
  onWaited?: (tenant: string, waitedMs: number, aborted: boolean) => void
}

export interface TenantBudget {
  /** Resolves once the tenant may publish; rejects with the signal's reason when it is aborted first. */
  waitForRoom(tenant: string, signal?: AbortSignal): Promise<void>
  /** Records of the tenant were published after `waitForRoom` (they count until the next question). */
  published(tenant: string, records: number): void
  /** `publish` behind the budget: each call waits for room first. */
  publishing<T>(tenant: string, signal: AbortSignal | undefined, publish: (items: T[]) => Promise<void>): (items: T[]) => Promise<void>
}

/**
 * How much further a tenant polled alone may run ahead. The budget's price is the big tenant's own
 * speed: a tenant moves at most (backlog in flight) / (pipeline latency), and at 500 that held a
 * lone 10k-employee initial sync on Kafka + PostgreSQL to 31-34 s against 21.5 s unbudgeted, 27 s at
 * 1000 and 24 s at 2000 (docs/benchmarks.md, 2026-12-06 morning). With no other tenant to be fair
 * to that is a loss for nobody's gain; 8 × 500 = 4,000 records + events is about 2 s of the
 * pipeline's work there, so a tenant added while another's sync runs waits behind about that much,
 * once, before the limit holds again.
 *
 * Only while the tenant's initial sync reads it (its first complete round): every record is then a
 * new employee, read once whatever the budget. Afterwards records are changes, and an employee may
 * change again while the last one is on its way: a backlog left in Kombo is read once, at its newest
 * version, where one let into the pipeline is processed version by version. At 1,000 changes/s over
 * 1k employees, production, the factor in steady state held 1,500-1,900 records and events in
 * flight and p50 was 6.1-7.4 s, against max 225 and 4.5 s without it (docs/benchmarks.md,
 * 2026-12-07 morning).
 */
export const ALONE_FACTOR = 8

export function tenantBudget(o: TenantBudgetOptions): TenantBudget {
  if (!(o.limit >= 0)) throw new RangeError(`limit must be 0 (off) or positive, got ${o.limit}`)
  if (!(o.checkMs > 0)) throw new RangeError(`checkMs must be positive, got ${o.checkMs}`)

  // Per tenant, a bound of its backlog: the count last asked plus what was published since (the
  // backlog only shrinks by the processors committing and the projector applying; a record that
  // becomes several events can make it an underestimate until the next question). While it is below
  // the limit, a page goes without asking: one question per (limit − backlog) records instead of one
  // per page, which matters on the embedded database, where every question queues behind the
  // processors' and the projector's statements.
  const bound = new Map<string, number>()

  // Records first, then events: a record committed in between is counted in both (its events are
  // appended before its offset is committed), never in neither.
  async function backlogOf(tenant: string, limit: number): Promise<number> {
    const pending = await o.changeLog.tenantPending(o.group, tenant)
    if (!o.unprojected || pending >= limit) return pending
    return pending + (await o.unprojected(tenant, limit - pending))
  }
  const limitNow = (tenant: string) => (o.alone?.(tenant) ? o.limit * ALONE_FACTOR : o.limit)

  async function waitForRoom(tenant: string, signal?: AbortSignal): Promise<void> {
    if (o.limit === 0) return
    signal?.throwIfAborted()
    let limit = limitNow(tenant)
    if ((bound.get(tenant) ?? limit) < limit) return
    let backlog = await backlogOf(tenant, limit)
    if (backlog >= limit) {
      const started = Date.now()
      o.onWait?.(tenant, backlog)
      try {
        while (backlog >= limit) {
          await sleep(o.checkMs, undefined, { signal })
          limit = limitNow(tenant) // another tenant may have been added meanwhile, or removed; its initial sync may have ended
          backlog = await backlogOf(tenant, limit)
        }
      } catch (err) {
        o.onWaited?.(tenant, Date.now() - started, signal?.aborted === true)
        throw signal?.aborted ? signal.reason : err
      }
      o.onWaited?.(tenant, Date.now() - started, false)
    }
    bound.set(tenant, backlog)
  }

  const published = (tenant: string, records: number) => {
    if (bound.has(tenant)) bound.set(tenant, bound.get(tenant)! + records)
  }

  return {
    waitForRoom,
    published,
    publishing: (tenant, signal, publish) => async (items) => {
      if (items.length === 0) return publish(items)
      await waitForRoom(tenant, signal)
      await publish(items)
      published(tenant, items.length)
    },
  }
}
