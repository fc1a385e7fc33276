// The per-tenant backlog budget: before a tenant's poller publishes a page, it waits while that
// tenant already has `limit` or more records in the change log that the processors have not
// committed. One tenant's initial listing (100k records) then sits in Kombo, not in the change log,
// so another tenant's change waits behind at most `limit` of its records in the processors instead
// of the whole listing (no head-of-line blocking). The big tenant's sync is paced by the
// processors, which it was anyway. docs/operations.md ("Per-tenant backlog budget").
import { setTimeout as sleep } from 'node:timers/promises'
import type { ChangeLog } from './changelog/port.ts'

export interface TenantBudgetOptions {
  changeLog: Pick<ChangeLog, 'tenantPending'>
  /** The consumer group whose uncommitted records count (the processors'). */
  group: string
  /** Uncommitted records of one tenant at which its publishing waits; 0 turns the budget off. */
  limit: number
  /** How often a waiting publish asks again. */
  checkMs: number
  /** A publish began waiting (for logs). */
  onWait?: (tenant: string, pending: number) => void
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

export function tenantBudget(o: TenantBudgetOptions): TenantBudget {
  if (!(o.limit >= 0)) throw new RangeError(`limit must be 0 (off) or positive, got ${o.limit}`)
  if (!(o.checkMs > 0)) throw new RangeError(`checkMs must be positive, got ${o.checkMs}`)

  // Per tenant, an upper bound of its pending records: the count last asked plus what was published
  // since (pending only shrinks by the processors committing). While it is below the limit, a page
  // goes without asking: one question per (limit − pending) records instead of one per page, which
  // matters on the embedded database, where every question queues behind the processors' statements.
  const bound = new Map<string, number>()

  async function waitForRoom(tenant: string, signal?: AbortSignal): Promise<void> {
    if (o.limit === 0) return
    signal?.throwIfAborted()
    if ((bound.get(tenant) ?? o.limit) < o.limit) return
    let pending = await o.changeLog.tenantPending(o.group, tenant)
    if (pending >= o.limit) {
      const started = Date.now()
      o.onWait?.(tenant, pending)
      try {
        while (pending >= o.limit) {
          await sleep(o.checkMs, undefined, { signal })
          pending = await o.changeLog.tenantPending(o.group, tenant)
        }
      } catch (err) {
        o.onWaited?.(tenant, Date.now() - started, signal?.aborted === true)
        throw signal?.aborted ? signal.reason : err
      }
      o.onWaited?.(tenant, Date.now() - started, false)
    }
    bound.set(tenant, pending)
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
