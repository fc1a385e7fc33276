// What a reconnected integration leaves behind, on the SQL database (PGlite or PostgreSQL):
//   - the id aliases: (tenant, new integration, resource, new Kombo id) → the entity id our stream
//     already has, so the records of the new integration keep flowing into the existing streams
//     (applied at the poller's edge, apply-aliases.ts);
//   - the re-link runs: requested by a lifecycle webhook or an operator, claimed and carried out by
//     the poller role (it holds the Kombo client), with what could and could not be matched.
// One module for both because a run is what writes the aliases; each has its own table.
import type { SqlQueryable } from '../../sql/database.ts'
import type { KomboResource } from '../../schemas/kombo.ts'

export type MatchedBy = 'remote_id' | 'work_email'

export interface IdAlias {
  resource: KomboResource
  komboId: string
  entityId: string
  matchedBy: MatchedBy
}

/** Per resource, new Kombo id → existing entity id. */
export type AliasMap = ReadonlyMap<string, ReadonlyMap<string, string>>

export type RelinkState = 'pending' | 'running' | 'done' | 'failed'

export interface RelinkReport {
  /** Per resource: records the new integration listed, matched by remote_id, by work email, and not matched. */
  resources: Partial<Record<KomboResource, { listed: number; byRemoteId: number; byWorkEmail: number; unmatched: number; existingUnmatched: number }>>
  /** Employee streams the re-link was recorded in (EmployeeRelinked appended; 0 on a repeat). */
  employeesRelinked: number
  /**
   * Records of the new integration that matched nobody (they arrive as new entities), and existing
   * entities no new record matched (kept as they are, not deactivated). Ids only, never names or
   * emails; at most REPORT_LIMIT of each (the counts above are complete).
   */
  unmatched: { new: Array<{ resource: KomboResource; komboId: string; remoteId: string | null }>; existing: Array<{ resource: KomboResource; entityId: string }> }
}

export const REPORT_LIMIT = 100

export interface RelinkRun {
  tenant: string
  fromIntegrationId: string | null
  toIntegrationId: string
  state: RelinkState
  requestedBy: string
  requestedAt: string
  startedAt: string | null
  finishedAt: string | null
  report: RelinkReport | null
  error: string | null
}

const migration = `
CREATE TABLE IF NOT EXISTS kombo_id_aliases (
  tenant text NOT NULL, integration_id text NOT NULL, resource text NOT NULL, kombo_id text NOT NULL,
  entity_id text NOT NULL, matched_by text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, integration_id, resource, kombo_id));
CREATE TABLE IF NOT EXISTS tenant_relinks (
  tenant text NOT NULL, to_integration text NOT NULL, from_integration text, state text NOT NULL,
  requested_by text NOT NULL, requested_at timestamptz NOT NULL DEFAULT now(), started_at timestamptz,
  finished_at timestamptz, report jsonb, error text, PRIMARY KEY (tenant, to_integration));
`

/** A run claimed this long ago and not finished belongs to a poller that died: it may be claimed again. */
export const STALE_RUN_MS = 10 * 60_000

interface RunRow {
  tenant: string
  to_integration: string
  from_integration: string | null
  state: string
  requested_by: string
  requested_at: Date | string
  started_at: Date | string | null
  finished_at: Date | string | null
  report: unknown
  error: string | null
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString())
const toRun = (r: RunRow): RelinkRun => ({
  tenant: r.tenant,
  fromIntegrationId: r.from_integration,
  toIntegrationId: r.to_integration,
  state: r.state as RelinkState,
  requestedBy: r.requested_by,
  requestedAt: iso(r.requested_at)!,
  startedAt: iso(r.started_at),
  finishedAt: iso(r.finished_at),
  report: (typeof r.report === 'string' ? JSON.parse(r.report) : r.report) as RelinkReport | null,
  error: r.error,
})

/** Rows per alias insert: the rows go as one JSON parameter (jsonb_to_recordset), bounded in size. */
const ALIASES_PER_STATEMENT = 5000

export class SqlRelinkStore {
  constructor(
    private readonly db: SqlQueryable,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Asks for a re-link (idempotent: a webhook delivered twice asks once). A failed run is asked for
   * again; a pending, running or finished one is left as it is.
   */
  async request(tenant: string, fromIntegrationId: string | null, toIntegrationId: string, requestedBy: string): Promise<RelinkRun> {
    const { rows } = await this.db.query<RunRow>(
      `INSERT INTO tenant_relinks (tenant, to_integration, from_integration, state, requested_by, requested_at)
       VALUES ($1, $2, $3, 'pending', $4, $5)
       ON CONFLICT (tenant, to_integration) DO UPDATE SET state = 'pending', requested_by = EXCLUDED.requested_by,
         requested_at = EXCLUDED.requested_at, error = NULL, from_integration = EXCLUDED.from_integration
         WHERE tenant_relinks.state = 'failed'
       RETURNING *`,
      [tenant, toIntegrationId, fromIntegrationId, requestedBy, this.now().toISOString()],
    )
    return rows[0] ? toRun(rows[0]) : (await this.run(tenant, toIntegrationId))!
  }

  /** Claims every pending run (and stale running ones) in one statement, so two pollers never run the same one. */
  async claim(): Promise<RelinkRun[]> {
    const now = this.now()
    const { rows } = await this.db.query<RunRow>(
      `UPDATE tenant_relinks SET state = 'running', started_at = $1
       WHERE state = 'pending' OR (state = 'running' AND started_at < $2) RETURNING *`,
      [now.toISOString(), new Date(now.getTime() - STALE_RUN_MS).toISOString()],
    )
    return rows.map(toRun).sort((a, b) => a.requestedAt.localeCompare(b.requestedAt))
  }

  async finish(tenant: string, toIntegrationId: string, report: RelinkReport): Promise<void> {
    await this.db.query(`UPDATE tenant_relinks SET state = 'done', finished_at = $3, report = $4::jsonb, error = NULL WHERE tenant = $1 AND to_integration = $2`, [
      tenant,
      toIntegrationId,
      this.now().toISOString(),
      JSON.stringify(report),
    ])
  }

  async fail(tenant: string, toIntegrationId: string, error: string): Promise<void> {
    await this.db.query(`UPDATE tenant_relinks SET state = 'failed', finished_at = $3, error = $4 WHERE tenant = $1 AND to_integration = $2`, [
      tenant,
      toIntegrationId,
      this.now().toISOString(),
      error.slice(0, 2000),
    ])
  }

  async run(tenant: string, toIntegrationId: string): Promise<RelinkRun | null> {
    const { rows } = await this.db.query<RunRow>('SELECT * FROM tenant_relinks WHERE tenant = $1 AND to_integration = $2', [tenant, toIntegrationId])
    return rows[0] ? toRun(rows[0]) : null
  }

  /** The tenant's re-links, newest first. */
  async runsOf(tenant: string): Promise<RelinkRun[]> {
    const { rows } = await this.db.query<RunRow>('SELECT * FROM tenant_relinks WHERE tenant = $1 ORDER BY requested_at DESC', [tenant])
    return rows.map(toRun)
  }

  /** Whether the tenant has any entity in the views: binding a first integration to it is then a re-link too. */
  async hasEntities(tenant: string): Promise<boolean> {
    const { rows } = await this.db.query('SELECT 1 FROM view_entity_states WHERE tenant = $1 LIMIT 1', [tenant])
    return rows.length > 0
  }

  /** Upserts: a run done again (after a crash) writes the same rows. */
  async putAliases(tenant: string, integrationId: string, aliases: readonly IdAlias[]): Promise<void> {
    for (let i = 0; i < aliases.length; i += ALIASES_PER_STATEMENT) {
      const rows = aliases.slice(i, i + ALIASES_PER_STATEMENT).map((a) => ({ resource: a.resource, kombo_id: a.komboId, entity_id: a.entityId, matched_by: a.matchedBy }))
      await this.db.query(
        `INSERT INTO kombo_id_aliases (tenant, integration_id, resource, kombo_id, entity_id, matched_by)
         SELECT $1, $2, r.resource, r.kombo_id, r.entity_id, r.matched_by
         FROM jsonb_to_recordset($3::jsonb) AS r(resource text, kombo_id text, entity_id text, matched_by text)
         ON CONFLICT (tenant, integration_id, resource, kombo_id) DO UPDATE SET entity_id = EXCLUDED.entity_id, matched_by = EXCLUDED.matched_by`,
        [tenant, integrationId, JSON.stringify(rows)],
      )
    }
  }

  /** The aliases of one integration of the tenant (empty for an integration that was never a re-link). */
  async aliasesOf(tenant: string, integrationId: string): Promise<AliasMap> {
    const { rows } = await this.db.query<{ resource: string; kombo_id: string; entity_id: string }>(
      'SELECT resource, kombo_id, entity_id FROM kombo_id_aliases WHERE tenant = $1 AND integration_id = $2',
      [tenant, integrationId],
    )
    const out = new Map<string, Map<string, string>>()
    for (const r of rows) {
      let byId = out.get(r.resource)
      if (!byId) out.set(r.resource, (byId = new Map()))
      byId.set(r.kombo_id, r.entity_id)
    }
    return out
  }
}

export async function openSqlRelinkStore(db: SqlQueryable & { exec(sql: string): Promise<void> }, now?: () => Date): Promise<SqlRelinkStore> {
  await db.exec(migration)
  return new SqlRelinkStore(db, now)
}
