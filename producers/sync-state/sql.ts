// SyncStateStore on the SQL database (PGlite embedded, or PostgreSQL): one row per (tenant, resource).
import type { SqlDatabase } from '../../sql/database.ts'
import type { KomboResource } from '../../schemas/kombo.ts'
import type { InitialSyncRecord, PollSucceededDetails, SyncState, SyncStateStore } from './port.ts'

const schema = `
CREATE TABLE IF NOT EXISTS kombo_sync_state (
  tenant text NOT NULL,
  resource text NOT NULL,
  -- kept as text so the watermark round-trips exactly as Kombo wrote it; compared as timestamptz
  watermark text,
  last_poll_started_at timestamptz,
  last_poll_finished_at timestamptz,
  last_success_at timestamptz,
  records_seen bigint NOT NULL DEFAULT 0,
  last_error_message text,
  last_error_at timestamptz,
  failing boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tenant, resource)
);
ALTER TABLE kombo_sync_state ADD COLUMN IF NOT EXISTS clock_skew_seconds double precision NOT NULL DEFAULT 0;
ALTER TABLE kombo_sync_state ADD COLUMN IF NOT EXISTS last_full_reconcile_at timestamptz;
-- One row per tenant whose first poll ran after this table existed (see InitialSyncRecord).
CREATE TABLE IF NOT EXISTS kombo_initial_sync (
  tenant text PRIMARY KEY,
  started_at timestamptz NOT NULL,
  polling_finished_at timestamptz,
  -- null while polling (then the live sum of records_seen counts); frozen when polling finished
  polled bigint,
  processed bigint NOT NULL DEFAULT 0,
  finished_at timestamptz
)`

interface InitialRow {
  tenant: string
  started_at: Date | string
  polling_finished_at: Date | string | null
  polled: string | number | null
  live_polled: string | number
  processed: string | number
  finished_at: Date | string | null
}

interface Row {
  tenant: string
  resource: string
  watermark: string | null
  last_poll_started_at: Date | string | null
  last_poll_finished_at: Date | string | null
  last_success_at: Date | string | null
  records_seen: string | number
  last_error_message: string | null
  last_error_at: Date | string | null
  failing: boolean
  clock_skew_seconds: number | string
  last_full_reconcile_at: Date | string | null
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString())

const toState = (r: Row): SyncState => ({
  tenant: r.tenant,
  resource: r.resource as KomboResource,
  watermark: r.watermark,
  lastPollStartedAt: iso(r.last_poll_started_at),
  lastPollFinishedAt: iso(r.last_poll_finished_at),
  lastSuccessAt: iso(r.last_success_at),
  recordsSeen: Number(r.records_seen),
  lastError: r.last_error_message !== null ? { message: r.last_error_message, at: iso(r.last_error_at)! } : null,
  failing: r.failing,
  clockSkewSeconds: Number(r.clock_skew_seconds ?? 0),
  lastFullReconcileAt: iso(r.last_full_reconcile_at ?? null),
})

export class SqlSyncStateStore implements SyncStateStore {
  constructor(
    private readonly db: SqlDatabase,
    /** The clock that stamps poll times; injected so tests can freeze it. */
    private readonly now: () => Date = () => new Date(),
  ) {}

  async migrate(): Promise<void> {
    await this.db.exec(schema)
  }

  async get(tenant: string, resource: KomboResource): Promise<SyncState | null> {
    const { rows } = await this.db.query<Row>('SELECT * FROM kombo_sync_state WHERE tenant = $1 AND resource = $2', [
      tenant,
      resource,
    ])
    return rows[0] ? toState(rows[0]) : null
  }

  async list(tenant: string): Promise<SyncState[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM kombo_sync_state WHERE tenant = $1 ORDER BY resource', [tenant])
    return rows.map(toState)
  }

  async recordPollStarted(tenant: string, resource: KomboResource): Promise<void> {
    const at = this.now().toISOString()
    // The tenant's very first poll starts its initial sync; a tenant polled before keeps none.
    await this.db.query(
      `INSERT INTO kombo_initial_sync (tenant, started_at)
       SELECT $1, $2::timestamptz WHERE NOT EXISTS (SELECT 1 FROM kombo_sync_state WHERE tenant = $1)
       ON CONFLICT (tenant) DO NOTHING`,
      [tenant, at],
    )
    await this.db.query(
      `INSERT INTO kombo_sync_state (tenant, resource, last_poll_started_at) VALUES ($1, $2, $3)
       ON CONFLICT (tenant, resource) DO UPDATE SET last_poll_started_at = EXCLUDED.last_poll_started_at`,
      [tenant, resource, at],
    )
  }

  async recordPageHandedOn(tenant: string, resource: KomboResource, count: number): Promise<void> {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`record count must be a non-negative integer, got ${count}`)
    await this.db.query(
      `INSERT INTO kombo_sync_state (tenant, resource, records_seen) VALUES ($1, $2, $3)
       ON CONFLICT (tenant, resource) DO UPDATE SET records_seen = kombo_sync_state.records_seen + EXCLUDED.records_seen`,
      [tenant, resource, count],
    )
  }

  async recordPollSucceeded(tenant: string, resource: KomboResource, newWatermark: string | null, details: PollSucceededDetails = {}): Promise<void> {
    if (newWatermark !== null && Number.isNaN(Date.parse(newWatermark))) {
      throw new RangeError(`watermark must be an ISO date-time, got ${JSON.stringify(newWatermark)}`)
    }
    const at = this.now().toISOString()
    // The watermark only moves forward: a late, slower poll must not rewind a faster one's progress.
    await this.db.query(
      `INSERT INTO kombo_sync_state (tenant, resource, watermark, last_poll_finished_at, last_success_at, failing, clock_skew_seconds, last_full_reconcile_at)
       VALUES ($1, $2, $3, $4, $4, false, $5, $6::timestamptz)
       ON CONFLICT (tenant, resource) DO UPDATE SET
         watermark = CASE
           WHEN EXCLUDED.watermark IS NULL THEN kombo_sync_state.watermark
           WHEN kombo_sync_state.watermark IS NULL THEN EXCLUDED.watermark
           WHEN EXCLUDED.watermark::timestamptz > kombo_sync_state.watermark::timestamptz THEN EXCLUDED.watermark
           ELSE kombo_sync_state.watermark END,
         last_poll_finished_at = EXCLUDED.last_poll_finished_at,
         last_success_at = EXCLUDED.last_success_at,
         failing = false,
         clock_skew_seconds = EXCLUDED.clock_skew_seconds,
         last_full_reconcile_at = COALESCE(EXCLUDED.last_full_reconcile_at, kombo_sync_state.last_full_reconcile_at)`,
      [tenant, resource, newWatermark, at, details.clockSkewSeconds ?? 0, details.fullListingStartedAt ?? null],
    )
  }

  async forgetWatermarks(tenant: string): Promise<void> {
    await this.db.query('UPDATE kombo_sync_state SET watermark = NULL, last_full_reconcile_at = NULL WHERE tenant = $1', [tenant])
  }

  async recordPollFailed(tenant: string, resource: KomboResource, error: Error | string, failing: boolean): Promise<void> {
    const message = typeof error === 'string' ? error : error.message
    await this.db.query(
      `INSERT INTO kombo_sync_state (tenant, resource, last_poll_finished_at, last_error_message, last_error_at, failing)
       VALUES ($1, $2, $3, $4, $3, $5)
       ON CONFLICT (tenant, resource) DO UPDATE SET
         last_poll_finished_at = EXCLUDED.last_poll_finished_at,
         last_error_message = EXCLUDED.last_error_message,
         last_error_at = EXCLUDED.last_error_at,
         failing = EXCLUDED.failing`,
      [tenant, resource, this.now().toISOString(), message, failing],
    )
  }

  async initialSync(tenant: string): Promise<InitialSyncRecord | null> {
    const { rows } = await this.db.query<InitialRow>(
      `SELECT i.*, (SELECT COALESCE(sum(records_seen), 0) FROM kombo_sync_state s WHERE s.tenant = i.tenant) AS live_polled
       FROM kombo_initial_sync i WHERE i.tenant = $1`,
      [tenant],
    )
    const r = rows[0]
    if (!r) return null
    return {
      tenant: r.tenant,
      startedAt: iso(r.started_at)!,
      pollingFinishedAt: iso(r.polling_finished_at),
      polled: Number(r.polled ?? r.live_polled),
      processed: Number(r.processed),
      finishedAt: iso(r.finished_at),
    }
  }

  async recordInitialPollingFinished(tenant: string): Promise<void> {
    await this.db.query(
      `WITH seen AS (SELECT COALESCE(sum(records_seen), 0) AS n FROM kombo_sync_state WHERE tenant = $1)
       UPDATE kombo_initial_sync SET
         polling_finished_at = $2::timestamptz,
         polled = seen.n,
         finished_at = CASE WHEN kombo_initial_sync.processed >= seen.n THEN $2::timestamptz END
       FROM seen WHERE tenant = $1 AND polling_finished_at IS NULL`,
      [tenant, this.now().toISOString()],
    )
  }

  async recordProcessed(counts: ReadonlyMap<string, number>): Promise<void> {
    const entries = [...counts].filter(([, n]) => n > 0)
    if (entries.length === 0) return
    for (const [, n] of entries) if (!Number.isInteger(n)) throw new RangeError(`record count must be an integer, got ${n}`)
    const params: unknown[] = [this.now().toISOString()]
    const values = entries.map(([tenant, n]) => {
      params.push(tenant, n)
      return `($${params.length - 1}, $${params.length}::bigint)`
    })
    // One statement for the whole batch; a finished initial sync is no longer counted.
    await this.db.query(
      `UPDATE kombo_initial_sync AS i SET
         processed = i.processed + v.n,
         finished_at = CASE WHEN i.polled IS NOT NULL AND i.processed + v.n >= i.polled THEN $1::timestamptz END
       FROM (VALUES ${values.join(', ')}) AS v (tenant, n)
       WHERE i.tenant = v.tenant AND i.finished_at IS NULL`,
      params,
    )
  }
}
