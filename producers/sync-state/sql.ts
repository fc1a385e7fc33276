// SyncStateStore on the SQL database (PGlite embedded, or PostgreSQL): one row per (tenant, resource).
import type { SqlDatabase } from '../../sql/database.ts'
import type { KomboResource } from '../../schemas/kombo.ts'
import type { PollSucceededDetails, SyncState, SyncStateStore } from './port.ts'

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
ALTER TABLE kombo_sync_state ADD COLUMN IF NOT EXISTS last_full_reconcile_at timestamptz`

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
    await this.db.query(
      `INSERT INTO kombo_sync_state (tenant, resource, last_poll_started_at) VALUES ($1, $2, $3)
       ON CONFLICT (tenant, resource) DO UPDATE SET last_poll_started_at = EXCLUDED.last_poll_started_at`,
      [tenant, resource, this.now().toISOString()],
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
}
