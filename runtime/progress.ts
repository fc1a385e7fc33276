// Progress of long work: a tenant's initial sync (figures kept in the database by the poller and
// processor roles, so any process can read them), and an operator command's work — a view
// rebuild, a change-log replay followed to its end, a re-drive of dead letters — whose total is
// known. Kombo gives no totals, so the initial sync says what is known and no percent.
import type { InitialSyncStatus } from '../api/ports.ts'
import type { InitialSyncRecord, SyncStateStore } from '../producers/sync-state/port.ts'

// The figures are what `/sync` answers (the API's port owns the shape); the state names come from it.
export type InitialSyncProgress = InitialSyncStatus
export type InitialSyncState = InitialSyncStatus['state']

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

export interface WorkProgress {
  done: number
  /** null: not known (yet). */
  total: number | null
  /** null without a total. */
  percent: number | null
  ratePerSecond: number
  /** Seconds left at the rate so far; null before any progress or without a total. */
  etaSeconds: number | null
}

/** `done` of `total` units after `elapsedMs`: percent (100 for nothing to do), rate and ETA. */
export function workProgress(done: number, total: number | null, elapsedMs: number): WorkProgress {
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0
  const percent = total === null ? null : total > 0 ? Math.min(100, Math.round((done / total) * 1000) / 10) : 100
  return {
    done,
    total,
    percent,
    ratePerSecond: Math.round(rate * 10) / 10,
    etaSeconds: total !== null && rate > 0 ? Math.max(0, Math.round((total - done) / rate)) : null,
  }
}

/**
 * `replay: 2,500 of 10,000 records · 25% · 500 records/s · ETA 15s`; without a total
 * `replay: 2,500 records · 500 records/s · total not yet known`.
 */
export function formatWork(what: string, unit: string, p: WorkProgress): string {
  const rate = `${count(p.ratePerSecond)} ${unit}/s`
  if (p.total === null) return `${what}: ${count(p.done)} ${unit} · ${rate} · total not yet known`
  const eta = p.etaSeconds === null ? 'ETA unknown' : `ETA ${p.etaSeconds}s`
  return `${what}: ${count(p.done)} of ${count(p.total)} ${unit} · ${p.percent}% · ${rate} · ${eta}`
}

export interface RebuildProgress extends WorkProgress {
  total: number
  percent: number
}

/** A rebuild's progress: `done` of `total` event-store positions after `elapsedMs`. */
export function rebuildProgress(done: number, total: number, elapsedMs: number): RebuildProgress {
  const p = workProgress(done, total, elapsedMs)
  return { ...p, total, percent: p.percent ?? 100 }
}

export function formatRebuild(p: RebuildProgress): string {
  return formatWork('rebuild', 'events', p)
}

/**
 * While an operator command works: one info line every `intervalMs` (default 5 s) with what
 * `read` reports so far. `now` is the clock the rate is measured with (tests pass a fake one).
 * `line()` logs one at once (the command's last line, or a test); `stop()` ends the timer.
 */
export function startWorkReporter(o: {
  what: string
  unit: string
  read: () => { done: number; total: number | null }
  logger: { info(o: object, m: string): void }
  now?: () => number
  intervalMs?: number
}): { line(): WorkProgress; stop(): void } {
  const now = o.now ?? Date.now
  const startedAt = now()
  const line = () => {
    const { done, total } = o.read()
    const p = workProgress(done, total, now() - startedAt)
    o.logger.info({ progress: o.what, ...p }, formatWork(o.what, o.unit, p))
    return p
  }
  const timer = setInterval(line, o.intervalMs ?? PROGRESS_INTERVAL_MS)
  timer.unref()
  return { line, stop: () => clearInterval(timer) }
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
