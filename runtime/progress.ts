// Progress of long work: a tenant's initial sync (figures kept in the database by the poller and
// processor roles, so any process can read them) and a view rebuild (whose total is known).
// Kombo gives no totals, so the initial sync says what is known and no percent.
import type { InitialSyncRecord, SyncStateStore } from '../producers/sync-state/port.ts'

export type InitialSyncState = 'not_started' | 'polling' | 'processing' | 'done'

export interface InitialSyncProgress {
  state: InitialSyncState
  polled: number
  processed: number
  visible: number
  /** Records processed per second since the initial sync started (until it finished). */
  ratePerSecond: number
  startedAt: string | null
  finishedAt: string | null
}

/**
 * The initial sync's figures. `record` null with `everPolled` true: the tenant was first polled
 * before initial syncs were recorded, so it is long done (figures unknown, reported as 0).
 */
export function initialSyncProgress(record: InitialSyncRecord | null, visible: number, now: Date, everPolled = false): InitialSyncProgress {
  if (!record) {
    return { state: everPolled ? 'done' : 'not_started', polled: 0, processed: 0, visible, ratePerSecond: 0, startedAt: null, finishedAt: null }
  }
  const state: InitialSyncState = record.finishedAt !== null ? 'done' : record.pollingFinishedAt === null ? 'polling' : 'processing'
  const end = record.finishedAt !== null ? Date.parse(record.finishedAt) : now.getTime()
  const seconds = (end - Date.parse(record.startedAt)) / 1000
  return {
    state,
    polled: record.polled,
    processed: record.processed,
    visible,
    ratePerSecond: seconds > 0 ? Math.round((record.processed / seconds) * 10) / 10 : 0,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
  }
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US')

/** `initial sync: polled 12,000 · processed 9,500 · visible 9,000 · 850 records/s` */
export function formatInitialSync(p: InitialSyncProgress): string {
  return `initial sync: polled ${count(p.polled)} · processed ${count(p.processed)} · visible ${count(p.visible)} · ${count(p.ratePerSecond)} records/s`
}

export interface RebuildProgress {
  done: number
  total: number
  percent: number
  ratePerSecond: number
  /** Seconds left at the rate so far; null before any progress. */
  etaSeconds: number | null
}

/** A rebuild's progress: `done` of `total` event-store positions after `elapsedMs`. */
export function rebuildProgress(done: number, total: number, elapsedMs: number): RebuildProgress {
  const percent = total > 0 ? Math.min(100, Math.round((done / total) * 1000) / 10) : 100
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0
  return {
    done,
    total,
    percent,
    ratePerSecond: Math.round(rate * 10) / 10,
    etaSeconds: rate > 0 ? Math.max(0, Math.round((total - done) / rate)) : null,
  }
}

export function formatRebuild(p: RebuildProgress): string {
  const eta = p.etaSeconds === null ? 'ETA unknown' : `ETA ${p.etaSeconds}s`
  return `rebuild: ${count(p.done)} of ${count(p.total)} events · ${p.percent}% · ${count(p.ratePerSecond)} events/s · ${eta}`
}

/** Reads one tenant's progress; the caller (poller role, API) supplies the stores. */
export interface InitialSyncSource {
  initialSync(tenant: string): Promise<InitialSyncRecord | null>
  everPolled(tenant: string): Promise<boolean>
  visibleUsers(tenant: string): Promise<number>
}

/** The source over the stores every role opens (sync state and views share one database). */
export function initialSyncSourceOf(stores: { syncState: SyncStateStore; views: { countUsers(tenant: string): Promise<number> } }): InitialSyncSource {
  return {
    initialSync: (tenant) => stores.syncState.initialSync(tenant),
    everPolled: async (tenant) => (await stores.syncState.list(tenant)).length > 0,
    visibleUsers: (tenant) => stores.views.countUsers(tenant),
  }
}

export async function readInitialSync(source: InitialSyncSource, tenant: string, now: Date): Promise<InitialSyncProgress> {
  const [record, visible] = await Promise.all([source.initialSync(tenant), source.visibleUsers(tenant)])
  return initialSyncProgress(record, visible, now, record ? false : await source.everPolled(tenant))
}

export const PROGRESS_INTERVAL_MS = 5000

/**
 * Every `intervalMs`, one info line per tenant whose initial sync is not done (run by the poller
 * role, for the tenants it polls). Returns the stop function.
 */
export function startInitialSyncReporter(o: {
  source: InitialSyncSource
  tenants: () => Iterable<string>
  now: () => Date
  logger: { info(o: object, m: string): void; warn(o: object, m: string): void }
  onProgress?: (tenant: string, p: InitialSyncProgress) => void
  intervalMs?: number
}): () => void {
  const done = new Set<string>()
  let running = false
  const tick = async () => {
    if (running) return
    running = true
    try {
      for (const tenant of o.tenants()) {
        if (done.has(tenant)) continue
        const p = await readInitialSync(o.source, tenant, o.now())
        o.onProgress?.(tenant, p)
        if (p.state === 'done' || p.state === 'not_started') {
          if (p.state === 'done') {
            done.add(tenant)
            if (p.startedAt) o.logger.info({ tenant, ...p }, `initial sync done: ${formatInitialSync(p).slice('initial sync: '.length)}`)
          }
          continue
        }
        o.logger.info({ tenant, ...p }, formatInitialSync(p))
      }
    } catch (err) {
      o.logger.warn({ err }, 'reading the initial sync progress failed')
    } finally {
      running = false
    }
  }
  const timer = setInterval(() => void tick(), o.intervalMs ?? PROGRESS_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
