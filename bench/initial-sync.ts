// Initial sync, embedded mode: a company of N employees, from the first Kombo request to every
// employee being a user in the view store, with the time each stage finished. Baseline: the raw
// append rate of the same SQL event store (fresh embedded database, one synthetic append per
// record), measured right after in the same run.
import { peakRssMb, type ResultRow } from './report.ts'
import { counterTotal, sizeLabel, startBenchPipeline, until, type ProcessorTuning } from './harness.ts'
import { openRawStore, rawAppendRate } from './raw-event-store.ts'
import { VIEWS_CHECKPOINT } from '../projections/projector.ts'
import { floorTablesNote, measureWriteFloor, type WriteFloor } from './write-floor.ts'

export interface InitialSyncResult {
  records: number
  employees: number
  events: number
  /** ms after the first Kombo request at which each stage had handled every record. */
  polledMs: number
  processedMs: number
  visibleMs: number
  /** The write floor of the rows this sync left in its database (bench/write-floor.ts), when asked for. */
  floor?: WriteFloor
}

export async function measureInitialSync(
  employees: number,
  options: {
    env?: Record<string, string>
    processor?: ProcessorTuning
    checkEveryMs?: number
    writeFloor?: boolean
    /** Kombo answers every list request this much later (the simulator's `slow` fault on each one). */
    komboPageDelayMs?: number
    /** Records per Kombo page (default: the poller's). */
    pageSize?: number
  } = {},
): Promise<InitialSyncResult> {
  let firstRequestAt = 0
  let watcher: NodeJS.Timeout | undefined
  const pipeline = await startBenchPipeline({
    employees,
    env: options.env,
    processor: options.processor,
    poller: options.pageSize === undefined ? undefined : { pageSize: options.pageSize },
    onSimulator: (sim) => {
      if (options.komboPageDelayMs) sim.injectFault({ kind: 'slow', delayMs: options.komboPageDelayMs, times: Number.MAX_SAFE_INTEGER })
      // The poller starts with the service; notice its first request to the simulator.
      watcher = setInterval(() => {
        if (!firstRequestAt && sim.requestLog.length > 0) firstRequestAt = performance.now()
      }, 1)
    },
  })
  try {
    const { service, records } = pipeline
    let polledAt = 0
    let processedAt = 0
    await until(
      'every employee to be a user',
      async () => {
        const t = performance.now()
        if (!polledAt && (await counterTotal(service, 'kombo_sync_records_polled_total')) >= records) polledAt = t
        if (!processedAt && (await counterTotal(service, 'kombo_sync_records_processed_total')) >= records) processedAt = t
        if (!processedAt) return false
        const counts = await service.stores.views.counts()
        if (counts.users < pipeline.employees) return false
        // And the projector has applied everything appended (not only the users' first events).
        const last = await service.stores.eventStore.readAll({ after: (await service.stores.views.checkpoint(VIEWS_CHECKPOINT)) ?? undefined, maxCount: 1, streamPrefixes: ['employee-', 'team-', 'location-', 'legalEntity-', 'absenceType-', 'absence-'] })
        return last.length === 0
      },
      30 * 60_000,
      options.checkEveryMs ?? 10,
    )
    const visibleAt = performance.now()
    const events = await counterTotal(service, 'kombo_sync_events_appended_total')
    // After the sync, on the same database: the service is idle by then (no poll due, projector caught up).
    const floor = options.writeFloor ? await measureWriteFloor(service.stores.db) : undefined
    return {
      floor,
      records,
      employees: pipeline.employees,
      events,
      polledMs: polledAt - firstRequestAt,
      processedMs: processedAt - firstRequestAt,
      visibleMs: visibleAt - firstRequestAt,
    }
  } finally {
    clearInterval(watcher)
    await pipeline.close()
  }
}

/** `n` records in `ms` as records per second. */
export const perSecond = (n: number, ms: number) => (n / ms) * 1000

export async function benchInitialSync(sizes: number[], label = 'embedded', processor?: ProcessorTuning): Promise<ResultRow[]> {
  const rows: ResultRow[] = []
  for (const size of sizes) {
    const r = await measureInitialSync(size, { processor, writeFloor: true })
    const rss = peakRssMb()
    const floor = r.floor!
    const raw = await openRawStore()
    // Same number of appends as records, with the pipeline's average events per append.
    const eventsPerAppend = Math.max(1, Math.round(r.events / Math.max(1, r.records)))
    const base = await rawAppendRate(raw.store, r.records, eventsPerAppend).finally(() => raw.close())
    const scenario = `${sizeLabel(size)} employees, ${label}`
    rows.push({
      benchmark: 'initial sync',
      scenario,
      value: perSecond(r.records, r.visibleMs),
      unit: 'records/s',
      // records per second of floor time, so that the ratio is floor time / pipeline time.
      baseline: { label: `write floor: the ${floor.rows.toLocaleString('en-US')} rows the sync left, re-inserted 1,000 per INSERT, same store`, value: perSecond(r.records, floor.ms), unit: 'records/s' },
      peakRssMb: rss,
      note:
        `${r.records} records → ${r.events} events, ${r.employees} users visible after ${(r.visibleMs / 1000).toFixed(1)} s (polled ${(r.polledMs / 1000).toFixed(1)} s, processed ${(r.processedMs / 1000).toFixed(1)} s); ` +
        `floor ${(floor.ms / 1000).toFixed(1)} s (${floorTablesNote(floor)}); ` +
        `old baseline: ${base.appendsPerSecond.toFixed(0)} raw single-stream appends/s of ${eventsPerAppend} event(s) → ${(perSecond(r.records, r.visibleMs) / base.appendsPerSecond).toFixed(2)}×`,
    })
  }
  return rows
}

/**
 * The initial sync against a Kombo that takes `delayMs` to answer each page, as the real one does
 * over the network (the simulator answers at once): the poll's requests in a row are then the
 * sync's floor. Baseline: the same sync at 100 records per page, Kombo's default page size.
 */
export async function benchKomboLatencySync(employees: number, delayMs: number): Promise<ResultRow[]> {
  const at100 = await measureInitialSync(employees, { komboPageDelayMs: delayMs, pageSize: 100 })
  const now = await measureInitialSync(employees, { komboPageDelayMs: delayMs })
  return [
    {
      benchmark: 'initial sync',
      scenario: `${sizeLabel(employees)} employees, embedded, Kombo answering each page after ${delayMs} ms`,
      value: perSecond(now.records, now.visibleMs),
      unit: 'records/s',
      baseline: { label: 'the same sync reading 100 records per page', value: perSecond(at100.records, at100.visibleMs), unit: 'records/s' },
      peakRssMb: peakRssMb(),
      note: `visible after ${(now.visibleMs / 1000).toFixed(1)} s, polled ${(now.polledMs / 1000).toFixed(1)} s (at 100 per page: ${(at100.visibleMs / 1000).toFixed(1)} s, polled ${(at100.polledMs / 1000).toFixed(1)} s)`,
    },
  ]
}
