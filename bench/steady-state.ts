// Steady state: a running pipeline (embedded mode) while the company changes at a fixed rate. Each
// change is a job-title update made through the simulator; its delay is the time from the change
// until the user's row in the view store (what GET /users/:id returns) shows the new title.
import { peakRssMb, type ResultRow } from './report.ts'
import { sizeLabel, startBenchPipeline, until } from './harness.ts'

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

export async function benchSteadyState(options: { employees: number; rates: number[]; seconds: number; pollIntervalMs: number }): Promise<ResultRow[]> {
  const pipeline = await startBenchPipeline({ employees: options.employees, env: { POLL_INTERVAL_MS: String(options.pollIntervalMs) } })
  const rows: ResultRow[] = []
  try {
    const { service, simulator } = pipeline
    await until('the initial sync', async () => (await service.stores.views.counts()).users >= pipeline.employees, 30 * 60_000, 50)
    const company = simulator.integration('demo')
    const ids = company.list('employees').map((e) => e.id)
    let seq = 0
    for (const rate of options.rates) {
      const pending = new Map<string, { title: string; at: number }>()
      const delays: number[] = []
      let made = 0
      const pacedFrom = performance.now()
      // A timer cannot fire every 1 ms on an event loop that also runs the pipeline: each tick
      // makes as many changes as are due by now, so the rate holds (the note says what was achieved).
      const timer = setInterval(() => {
        const due = Math.floor(((performance.now() - pacedFrom) / 1000) * rate)
        for (let tried = 0; made < due && tried < ids.length; tried++) {
          const id = ids[seq++ % ids.length]
          // One change in flight per user, so each delay belongs to exactly one change.
          if (pending.has(id)) continue
          const title = `Bench title ${seq}`
          company.update('employees', id, { job_title: title })
          pending.set(id, { title, at: performance.now() })
          made++
        }
      }, Math.max(10, 1000 / rate))
      const watch = async () => {
        if (pending.size === 0) return
        const { rows: seen } = await service.stores.db.query<{ id: string; title: string | null }>(
          `SELECT external_id AS id, doc->>'jobTitle' AS title FROM view_users WHERE tenant = 'demo' AND external_id = ANY($1::text[])`,
          [[...pending.keys()]],
        )
        const now = performance.now()
        for (const r of seen) {
          const p = pending.get(r.id)
          if (p && r.title === p.title) {
            delays.push(now - p.at)
            pending.delete(r.id)
          }
        }
      }
      const started = performance.now()
      while (performance.now() - started < options.seconds * 1000) {
        await watch()
        await new Promise((r) => setTimeout(r, 10))
      }
      clearInterval(timer)
      await until('the last changes to arrive', async () => (await watch(), pending.size === 0), 120_000, 10)
      const sorted = delays.sort((a, b) => a - b)
      rows.push({
        benchmark: 'steady state',
        scenario: `${rate} changes/s, ${sizeLabel(pipeline.employees)} employees, poll every ${options.pollIntervalMs} ms`,
        value: percentile(sorted, 50),
        unit: 'ms p50 delay',
        baseline: { label: 'poll interval', value: options.pollIntervalMs, unit: 'ms' },
        peakRssMb: peakRssMb(),
        note: `p95 ${Math.round(percentile(sorted, 95))} ms, p99 ${Math.round(percentile(sorted, 99))} ms over ${made} changes (${((made / options.seconds) | 0)}/s achieved)`,
      })
    }
    return rows
  } finally {
    await pipeline.close()
  }
}
