// The chaos soak's churn (scripts/soak.ts): random changes to the simulated companies, in turn, at a
// requested rate, and the rate it actually reached.
//
// One change per timer tick could not hold 50/s: a 20 ms interval fires late whenever the event
// loop is busy (the soak's own process also runs the simulator, the event-store double and the
// fault driver), and a late interval does not catch up, so the rate silently fell short. Each tick
// (every 100 ms) now makes every change that is due by the clock; after a long stall it catches up
// at most one second's worth and the rest is dropped, so a stall shows as a lower achieved rate
// rather than a burst the pipeline was never asked to take.
import type { SimulatedCompany } from '../simulator/index.ts'

export interface ChurnResult {
  /** Changes made, by kind. */
  changes: Record<string, number>
  made: number
  /** From the first tick to stop(). */
  seconds: number
  requestedPerSecond: number
  /** made / seconds. */
  achievedPerSecond: number
}

export function startChurn(companies: readonly SimulatedCompany[], changesPerSecond: number, tickMs = 100): { stop(): ChurnResult } {
  const changes: Record<string, number> = {}
  const started = performance.now()
  let made = 0
  let dropped = 0
  let turn = 0
  let result: ChurnResult | null = null
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * changesPerSecond) - made - dropped
    const now = Math.min(due, Math.ceil(changesPerSecond))
    dropped += due - now
    for (let i = 0; i < now; i++) {
      const change = companies[turn++ % companies.length].randomChange()
      changes[change.kind] = (changes[change.kind] ?? 0) + 1
      made += 1
    }
  }, tickMs)
  return {
    stop() {
      if (result) return result
      clearInterval(timer)
      const seconds = (performance.now() - started) / 1000
      result = { changes, made, seconds: Math.round(seconds * 10) / 10, requestedPerSecond: changesPerSecond, achievedPerSecond: seconds > 0 ? Math.round((made / seconds) * 10) / 10 : 0 }
      return result
    },
  }
}
