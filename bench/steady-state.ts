// Steady state: a running pipeline (embedded mode) while the company changes at a fixed rate. Each
// change is a job-title update made through the simulator; its delay is the time from the change
// until the user's row in the view store (what GET /users/:id returns) shows the new title.
import { peakRssMb, type ResultRow } from './report.ts'
import { sizeLabel, startBenchPipeline, until, type BenchPipeline } from './harness.ts'
import { measureChangeDelays, percentile } from './change-rate.ts'
import type { SqlDatabase } from '../sql/database.ts'
import type { ViewGenerations } from '../projections/viewstore/port.ts'

/** The job title of each of `ids` in the users view (what GET /users/:id returns). */
export const titlesInView = (db: SqlDatabase) => async (ids: string[]) =>
  (
    await db.query<{ id: string; title: string | null }>(
      `SELECT external_id AS id, doc->>'jobTitle' AS title FROM view_users WHERE tenant = 'demo' AND external_id = ANY($1::text[])`,
      [ids],
    )
  ).rows

/**
 * `titlesInView`, read again only once the views changed: every statement that writes view_users
 * bumps the tenant's generation (the view store's `generations()`), so while it stands still no
 * title can have changed. The generation is read before the titles, so what they show is at least
 * that generation. In the embedded process the probe shares the one thread with the pipeline:
 * reading every pending user every 10 ms was ~5 % of its CPU at 1,000 changes/s.
 */
export const titlesInViewOnceChanged = (db: SqlDatabase, views: ViewGenerations) => {
  const titles = titlesInView(db)
  let readAt: bigint | undefined
  return async (ids: string[]) => {
    const generation = (await views.generations()).get('demo')
    if (generation !== undefined && generation === readAt) return []
    const shown = await titles(ids)
    readAt = generation
    return shown
  }
}

/** ", TENANT_BACKLOG_LIMIT=200" when a bench sets the limit, "" on the service default. */
export const backlogLimitLabel = (limit: number | undefined): string => (limit === undefined ? '' : `, TENANT_BACKLOG_LIMIT=${limit}`)

/** Seconds the service's pollers have waited on the per-tenant backlog budget so far (its metric). */
async function budgetWaitSeconds(service: BenchPipeline['service']): Promise<number> {
  return (await service.metrics.tenantBacklogWaitSeconds.get()).values.reduce((n, v) => n + v.value, 0)
}

export async function benchSteadyState(options: {
  employees: number
  rates: number[]
  seconds: number
  pollIntervalMs: number
  /** Watermark overlap of every poll (default: the service default, 60 s). */
  overlapMs?: number
  /** e.g. the "before" poller (`repeatingPoller`), labelled in the scenario. */
  poller?: { tuning: Parameters<typeof startBenchPipeline>[0]['poller']; label: string }
  /** TENANT_BACKLOG_LIMIT of the service (default: the service default), named in the scenario when given. */
  tenantBacklogLimit?: number
}): Promise<ResultRow[]> {
  const env: Record<string, string> = { POLL_INTERVAL_MS: String(options.pollIntervalMs) }
  if (options.overlapMs !== undefined) env.KOMBO_WATERMARK_OVERLAP_MS = String(options.overlapMs)
  if (options.tenantBacklogLimit !== undefined) env.TENANT_BACKLOG_LIMIT = String(options.tenantBacklogLimit)
  const pipeline: BenchPipeline = await startBenchPipeline({ employees: options.employees, env, poller: options.poller?.tuning })
  const overlap = `overlap ${((options.overlapMs ?? 60_000) / 1000).toFixed(0)} s`
  const rows: ResultRow[] = []
  try {
    const { service, simulator } = pipeline
    await until('the initial sync', async () => (await service.stores.views.counts()).users >= pipeline.employees, 30 * 60_000, 50)
    const company = simulator.integration('demo')
    const ids = company.list('employees').map((e) => e.id)
    let seq = 0
    for (const rate of options.rates) {
      const heldBefore = await budgetWaitSeconds(service)
      const r = await measureChangeDelays({ company, ids, rate, seconds: options.seconds, seen: titlesInViewOnceChanged(service.stores.db, service.stores.views), firstSeq: seq, overlapping: true })
      seq = r.nextSeq
      const held = (await budgetWaitSeconds(service)) - heldBefore
      rows.push({
        benchmark: 'steady state',
        scenario: `${rate} changes/s, ${sizeLabel(pipeline.employees)} employees, poll every ${options.pollIntervalMs} ms, ${overlap}${backlogLimitLabel(options.tenantBacklogLimit)}${options.poller ? `, ${options.poller.label}` : ''}`,
        value: percentile(r.delays, 50),
        unit: 'ms p50 delay',
        baseline: { label: 'poll interval', value: options.pollIntervalMs, unit: 'ms' },
        peakRssMb: peakRssMb(),
        note: `p95 ${Math.round(percentile(r.delays, 95))} ms, p99 ${Math.round(percentile(r.delays, 99))} ms over ${r.made} changes (${r.achievedPerSecond | 0}/s achieved); the poller waited ${held.toFixed(1)} s on the backlog budget`,
      })
    }
    return rows
  } finally {
    await pipeline.close()
  }
}
