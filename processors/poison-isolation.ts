// The last line of defence against a poison record: one that passed validation but makes its
// batch fail every time (a value the store cannot hold, a bug in a fold). Retried as a batch a
// bounded number of times, the batch is then split in halves, each tried the same way, until the
// one record that keeps failing alone is handed to `poisoned` (dead-lettered with the reason) and
// the rest go on — so one tenant's poison never stops another tenant's records for long.
// A failure while the store itself is down is not a record's fault: then nothing is split or
// dead-lettered, the batch is retried as a whole until the store is back (or the caller stops).
import { setTimeout as sleep } from 'node:timers/promises'

export interface PoisonIsolationOptions<T> {
  /** Tries of a batch (and of each part of it) before it is split; default 3. */
  attempts?: number
  /** The wait before try `attempt` (1-based) again; default 100 ms doubling, at most 5 s. */
  backoffMs?: (attempt: number) => number
  /** Whether the store answers: a batch failing while it does not is retried whole, never split. */
  healthy: () => Promise<boolean>
  /**
   * A failure that itself says a store was out of reach (a refused connection …): retried whole, as
   * when `healthy` says no. `healthy` alone can miss it: its probe may run on a connection the pool
   * already holds while new ones are refused.
   */
  unavailable?: (err: Error) => boolean
  /** A failure that is never a record's fault (e.g. a version conflict): rethrown as is, not isolated. */
  isTransient?: (err: Error) => boolean
  /** The one record that kept failing alone: record it (dead letter) so the others can go on. */
  poisoned: (item: T, err: Error) => Promise<void>
  onError?: (err: Error) => void
  /** When true, the last failure is thrown instead of trying again (the caller is stopping). */
  stopped?: () => boolean
}

const defaultBackoff = (attempt: number) => Math.min(5000, 100 * 2 ** (attempt - 1))

/** Handles `items` with `handle` (in order: a part is handled only after the parts before it). */
export async function handleIsolatingPoison<T>(items: T[], handle: (items: T[]) => Promise<void>, options: PoisonIsolationOptions<T>): Promise<void> {
  if (items.length === 0) return
  for (;;) {
    const err = await tryRepeatedly(items, handle, options)
    if (!err) return
    if (options.isTransient?.(err) || options.stopped?.()) throw err
    if (options.unavailable?.(err) || !(await options.healthy().catch(() => false))) continue // the store is down: not the records' fault
    if (items.length === 1) return options.poisoned(items[0], err)
    const half = Math.ceil(items.length / 2)
    await handleIsolatingPoison(items.slice(0, half), handle, options)
    await handleIsolatingPoison(items.slice(half), handle, options)
    return
  }
}

/** Up to `attempts` tries with backoff between them; the last error, or null once one succeeded. */
async function tryRepeatedly<T>(items: T[], handle: (items: T[]) => Promise<void>, options: PoisonIsolationOptions<T>): Promise<Error | null> {
  const attempts = options.attempts ?? 3
  let last: Error | null = null
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      await handle(items)
      return null
    } catch (err) {
      last = err as Error
      options.onError?.(last)
      if (options.isTransient?.(last) || options.stopped?.()) return last
      if (attempt < attempts) await sleep((options.backoffMs ?? defaultBackoff)(attempt))
    }
  }
  return last
}
