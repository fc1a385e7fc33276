// Polling loops over a SQL table (subscriptions, consumers) sleep between polls; a write made by
// this same process wakes them at once, so local latency does not wait for the poll interval.
// Writes by other processes are still found by the next poll.

export interface Napper {
  /** Sleeps `ms`, or less when woken (by `wake()` or the group's `wakeAll()`). */
  sleep(ms: number): Promise<void>
  /** Ends the current sleep (and makes later ones return at once once `stop()` was called). */
  wake(): void
  /** After this, sleeps return at once: the loop is shutting down. */
  stop(): void
}

export class Wakeups {
  private readonly sleepers = new Set<() => void>()

  wakeAll(): void {
    for (const wake of [...this.sleepers]) wake()
  }

  napper(): Napper {
    let stopped = false
    let current: (() => void) | null = null
    return {
      sleep: (ms) =>
        new Promise<void>((resolve) => {
          if (stopped) return resolve()
          const done = () => {
            clearTimeout(timer)
            this.sleepers.delete(done)
            current = null
            resolve()
          }
          const timer = setTimeout(done, ms)
          current = done
          this.sleepers.add(done)
        }),
      wake: () => current?.(),
      stop: () => {
        stopped = true
        current?.()
      },
    }
  }
}
