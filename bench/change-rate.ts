// A steady stream of changes and the delay of each until it is read back: the driver shared by the
// steady-state benchmarks (embedded and production mode). Each change is a job-title update made
// through the simulator; `seen` says which titles the read side shows now.
import type { SimulatedCompany } from '../simulator/company.ts'
import { until } from './harness.ts'

export const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

export interface ChangeDelays {
  /** ms from each change to the read side showing it, ascending. */
  delays: number[]
  /** Changes made while the rate was held. */
  made: number
  /** Changes made per second of the measured window. */
  achievedPerSecond: number
  /** ms from the end of the window until the last change arrived (a backlog shows here). */
  drainMs: number
}

/**
 * Changes `ids` at `rate` per second for `seconds`, then waits for the last ones to arrive.
 * `seen(ids)` reads the current job title of each of those users from the read side.
 */
export async function measureChangeDelays(options: {
  company: SimulatedCompany
  ids: string[]
  rate: number
  seconds: number
  seen: (ids: string[]) => Promise<Array<{ id: string; title: string | null }>>
  /** Pause between reads of the read side (default 10 ms). */
  watchEveryMs?: number
  /** How long the last changes may take to arrive (default 120 s). */
  drainTimeoutMs?: number
  /** Restarts the id rotation where the previous rate left it, so every change sets a new title. */
  firstSeq?: number
  /**
   * false (default): one change in flight per user, so each delay belongs to exactly one change;
   * the rate then cannot exceed users / delay. true: a user may be changed again before the last
   * change arrived; a change counts as arrived when the user shows its title or a later one (the
   * poller may fetch only the newest state, which contains it).
   */
  overlapping?: boolean
}): Promise<ChangeDelays & { nextSeq: number }> {
  const { company, ids, rate } = options
  // Per user, the changes not yet seen, oldest first; titles carry their sequence number.
  const pending = new Map<string, Array<{ seq: number; at: number }>>()
  const delays: number[] = []
  let seq = options.firstSeq ?? 0
  let made = 0
  const pacedFrom = performance.now()
  // A timer cannot fire every 1 ms on an event loop that also runs the pipeline: each tick
  // makes as many changes as are due by now, so the rate holds (the caller reports what was achieved).
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - pacedFrom) / 1000) * rate)
    for (let tried = 0; made < due && tried < ids.length; tried++) {
      const id = ids[seq++ % ids.length]
      if (!options.overlapping && pending.has(id)) continue
      company.apply('employees', id, { job_title: `Bench title ${seq}` })
      pending.set(id, [...(pending.get(id) ?? []), { seq, at: performance.now() }])
      made++
    }
  }, Math.max(10, 1000 / rate))
  const watch = async () => {
    if (pending.size === 0) return
    const rows = await options.seen([...pending.keys()])
    const now = performance.now()
    for (const r of rows) {
      const shown = Number(/^Bench title (\d+)$/.exec(r.title ?? '')?.[1] ?? -1)
      const waiting = pending.get(r.id) ?? []
      const arrived = waiting.filter((c) => c.seq <= shown)
      for (const c of arrived) delays.push(now - c.at)
      if (arrived.length === waiting.length) pending.delete(r.id)
      else if (arrived.length > 0) pending.set(r.id, waiting.slice(arrived.length))
    }
  }
  const started = performance.now()
  try {
    while (performance.now() - started < options.seconds * 1000) {
      await watch()
      await new Promise((r) => setTimeout(r, options.watchEveryMs ?? 10))
    }
  } finally {
    clearInterval(timer)
  }
  const windowEnd = performance.now()
  await until('the last changes to arrive', async () => (await watch(), pending.size === 0), options.drainTimeoutMs ?? 120_000, options.watchEveryMs ?? 10, 1)
  const drainMs = performance.now() - windowEnd
  return { delays: delays.sort((a, b) => a - b), made, achievedPerSecond: made / ((windowEnd - pacedFrom) / 1000), drainMs, nextSeq: seq }
}
