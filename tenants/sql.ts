// TenantStore on the SQL database (PGlite embedded, or PostgreSQL): the tenant rows, their token
// hashes, their audit trail and one version number, every write in one transaction with its audit
// record and the version bump — so a crash never leaves a change unaudited or unannounced.
import type { SqlDatabase, SqlQueryable } from '../sql/database.ts'
import { TenantSettings, type Tenant, type TenantAuditRecord, type TenantStatus } from '../schemas/tenant.ts'
import {
  IntegrationAlreadyBoundError,
  TenantExistsError,
  TenantNotFoundError,
  TokenInUseError,
  type AuditEntry,
  type NewTenant,
  type StoredToken,
  type TenantChange,
  type TenantStore,
} from './port.ts'

const migration = `
CREATE TABLE IF NOT EXISTS tenants (
  id text PRIMARY KEY, integration_id text, settings jsonb NOT NULL, status text NOT NULL,
  failing_reason text, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE UNIQUE INDEX IF NOT EXISTS tenants_bound_integration ON tenants (integration_id)
  WHERE integration_id IS NOT NULL AND status <> 'offboarded';
CREATE TABLE IF NOT EXISTS tenant_tokens (
  tenant text NOT NULL REFERENCES tenants (id), id text NOT NULL, sha256 text NOT NULL UNIQUE,
  source text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant, id));
CREATE TABLE IF NOT EXISTS tenant_audit (
  seq bigserial PRIMARY KEY, tenant text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor text NOT NULL, action text NOT NULL, details jsonb NOT NULL);
CREATE INDEX IF NOT EXISTS tenant_audit_tenant ON tenant_audit (tenant, seq);
-- The tenant-wide change log reads the trail in time order, page by page (tenants/change-log.ts).
CREATE INDEX IF NOT EXISTS tenant_audit_at ON tenant_audit (tenant, at, seq);
CREATE TABLE IF NOT EXISTS tenant_directory_version (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), version bigint NOT NULL);
INSERT INTO tenant_directory_version (singleton, version) VALUES (true, 0) ON CONFLICT DO NOTHING;
`

interface Row {
  id: string
  integration_id: string | null
  settings: unknown
  status: string
  failing_reason: string | null
  created_at: Date | string
  updated_at: Date | string
}

const iso = (v: Date | string) => new Date(v).toISOString()
const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v)

const toTenant = (r: Row): Tenant => ({
  id: r.id,
  integrationId: r.integration_id,
  // Parsed (with defaults) on read: settings added later get their default for old rows.
  settings: TenantSettings.parse(json(r.settings)),
  status: r.status as TenantStatus,
  failingReason: r.failing_reason,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
})

const normaliseHash = (sha256: string) => {
  if (!/^[0-9a-fA-F]{64}$/.test(sha256)) throw new RangeError('a token hash is 64 hex characters (sha256 of the token)')
  return sha256.toLowerCase()
}

async function audited(tx: SqlQueryable, tenant: string, audit: AuditEntry): Promise<void> {
  await tx.query('INSERT INTO tenant_audit (tenant, actor, action, details) VALUES ($1, $2, $3, $4)', [
    tenant,
    audit.actor,
    audit.action,
    JSON.stringify(audit.details ?? {}),
  ])
  await tx.query('UPDATE tenant_directory_version SET version = version + 1')
}

type StateField = 'status' | 'integrationId' | 'failingReason'

/**
 * The tenant's own properties an update changed, before → after, added to its audit record by the
 * store (which alone knows the row it replaced), so every caller's record says what changed.
 */
function withStateChanges(audit: AuditEntry, before: Pick<Tenant, StateField>, after: Pick<Tenant, StateField>): AuditEntry {
  const stateChanges = (['status', 'integrationId', 'failingReason'] as const)
    .filter((field) => before[field] !== after[field])
    .map((field) => ({ field, before: before[field], after: after[field] }))
  return stateChanges.length ? { ...audit, details: { ...audit.details, stateChanges } } : audit
}

async function boundElsewhere(tx: SqlQueryable, integrationId: string, tenant: string): Promise<void> {
  const { rows } = await tx.query<{ id: string }>(
    "SELECT id FROM tenants WHERE integration_id = $1 AND status <> 'offboarded' AND id <> $2",
    [integrationId, tenant],
  )
  if (rows[0]) throw new IntegrationAlreadyBoundError(integrationId, rows[0].id)
}

async function lockedTenant(tx: SqlQueryable, id: string): Promise<Row> {
  const { rows } = await tx.query<Row>('SELECT * FROM tenants WHERE id = $1 FOR UPDATE', [id])
  if (!rows[0]) throw new TenantNotFoundError(id)
  return rows[0]
}

export class SqlTenantStore implements TenantStore {
  constructor(private readonly db: SqlDatabase) {}

  async migrate(): Promise<void> {
    await this.db.exec(migration)
  }

  async list(): Promise<Tenant[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM tenants ORDER BY id')
    return rows.map(toTenant)
  }

  async get(id: string): Promise<Tenant | null> {
    const { rows } = await this.db.query<Row>('SELECT * FROM tenants WHERE id = $1', [id])
    return rows[0] ? toTenant(rows[0]) : null
  }

  async byIntegration(integrationId: string): Promise<Tenant | null> {
    const { rows } = await this.db.query<Row>("SELECT * FROM tenants WHERE integration_id = $1 AND status <> 'offboarded'", [integrationId])
    return rows[0] ? toTenant(rows[0]) : null
  }

  async create(tenant: NewTenant, audit: AuditEntry): Promise<Tenant> {
    const settings = TenantSettings.parse(tenant.settings)
    const hashes = tenant.tokens.map((t) => ({ ...t, sha256: normaliseHash(t.sha256) }))
    return this.db.transaction(async (tx) => {
      // Creates are rare and roles apart seed the same tenants at the same moment: one create at a
      // time (a transaction-scoped advisory lock), so the checks below see a concurrent create's
      // committed row and answer "exists" / "bound elsewhere" instead of a raw unique violation
      // (on the id or the integration) that stopped the losing role from starting.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('kombo_sync.tenant_create'))")
      const { rows: existing } = await tx.query('SELECT 1 FROM tenants WHERE id = $1', [tenant.id])
      if (existing.length) throw new TenantExistsError(tenant.id)
      if (tenant.integrationId) await boundElsewhere(tx, tenant.integrationId, tenant.id)
      // ON CONFLICT as well: a writer that does not take the lock (none today) still gets "exists".
      const { rows } = await tx.query<Row>(
        'INSERT INTO tenants (id, integration_id, settings, status, failing_reason) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING *',
        [tenant.id, tenant.integrationId, JSON.stringify(settings), tenant.status ?? 'active', tenant.failingReason ?? null],
      )
      if (rows.length === 0) throw new TenantExistsError(tenant.id)
      for (const t of hashes) await insertToken(tx, tenant.id, t)
      await audited(tx, tenant.id, audit)
      return toTenant(rows[0])
    })
  }

  async update(id: string, change: TenantChange, audit: AuditEntry): Promise<Tenant> {
    return this.db.transaction(async (tx) => {
      const current = toTenant(await lockedTenant(tx, id))
      const integrationId = change.integrationId !== undefined ? change.integrationId : current.integrationId
      if (integrationId && integrationId !== current.integrationId) await boundElsewhere(tx, integrationId, id)
      const settings = change.settings ? TenantSettings.parse(change.settings) : current.settings
      const { rows } = await tx.query<Row>(
        `UPDATE tenants SET integration_id = $2, settings = $3, status = $4, failing_reason = $5, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [
          id,
          integrationId,
          JSON.stringify(settings),
          change.status ?? current.status,
          change.failingReason !== undefined ? change.failingReason : current.failingReason,
        ],
      )
      const updated = toTenant(rows[0])
      await audited(tx, id, withStateChanges(audit, current, updated))
      return updated
    })
  }

  async offboard(id: string, audit: AuditEntry): Promise<Tenant> {
    return this.db.transaction(async (tx) => {
      const current = toTenant(await lockedTenant(tx, id))
      await tx.query('DELETE FROM tenant_tokens WHERE tenant = $1', [id])
      const { rows } = await tx.query<Row>(
        "UPDATE tenants SET status = 'offboarded', updated_at = now() WHERE id = $1 RETURNING *",
        [id],
      )
      const updated = toTenant(rows[0])
      await audited(tx, id, withStateChanges(audit, current, updated))
      return updated
    })
  }

  async tokens(): Promise<StoredToken[]> {
    const { rows } = await this.db.query<{ tenant: string; id: string; sha256: string; source: string; created_at: Date | string }>(
      `SELECT k.tenant, k.id, k.sha256, k.source, k.created_at FROM tenant_tokens k JOIN tenants t ON t.id = k.tenant
       WHERE t.status <> 'offboarded' ORDER BY k.tenant, k.created_at, k.id`,
    )
    return rows.map((r) => ({ tenant: r.tenant, id: r.id, sha256: r.sha256, source: r.source as StoredToken['source'], createdAt: iso(r.created_at) }))
  }

  async tokensOf(tenant: string) {
    const { rows } = await this.db.query<{ id: string; source: string; created_at: Date | string }>(
      'SELECT id, source, created_at FROM tenant_tokens WHERE tenant = $1 ORDER BY created_at, id',
      [tenant],
    )
    return rows.map((r) => ({ id: r.id, source: r.source as StoredToken['source'], createdAt: iso(r.created_at) }))
  }

  async addToken(tenant: string, token: { id: string; sha256: string; source: StoredToken['source'] }, audit: AuditEntry): Promise<void> {
    const sha256 = normaliseHash(token.sha256)
    await this.db.transaction(async (tx) => {
      const row = await lockedTenant(tx, tenant)
      if (row.status === 'offboarded') throw new TenantNotFoundError(tenant)
      await insertToken(tx, tenant, { ...token, sha256 })
      await audited(tx, tenant, audit)
    })
  }

  async revokeToken(tenant: string, tokenId: string, audit: AuditEntry): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await lockedTenant(tx, tenant)
      const { rows } = await tx.query('DELETE FROM tenant_tokens WHERE tenant = $1 AND id = $2 RETURNING id', [tenant, tokenId])
      if (rows.length === 0) return false
      await audited(tx, tenant, audit)
      return true
    })
  }

  async replaceFileTokens(tenant: string, sha256s: string[], audit: AuditEntry): Promise<void> {
    const wanted = [...new Set(sha256s.map(normaliseHash))]
    await this.db.transaction(async (tx) => {
      await lockedTenant(tx, tenant)
      const { rows } = await tx.query<{ sha256: string }>("SELECT sha256 FROM tenant_tokens WHERE tenant = $1 AND source = 'file'", [tenant])
      const have = new Set(rows.map((r) => r.sha256))
      const added = wanted.filter((h) => !have.has(h))
      const removed = [...have].filter((h) => !wanted.includes(h))
      if (added.length === 0 && removed.length === 0) return
      if (removed.length) await tx.query("DELETE FROM tenant_tokens WHERE tenant = $1 AND source = 'file' AND sha256 = ANY($2::text[])", [tenant, removed])
      for (const sha256 of added) await insertToken(tx, tenant, { id: fileTokenId(sha256), sha256, source: 'file' })
      await audited(tx, tenant, { ...audit, details: { ...audit.details, tokensAdded: added.length, tokensRemoved: removed.length } })
    })
  }

  async auditTrail(tenant: string): Promise<TenantAuditRecord[]> {
    const { rows } = await this.db.query<{ tenant: string; at: Date | string; actor: string; action: string; details: unknown }>(
      'SELECT tenant, at, actor, action, details FROM tenant_audit WHERE tenant = $1 ORDER BY seq',
      [tenant],
    )
    return rows.map((r) => ({ tenant: r.tenant, at: iso(r.at), actor: r.actor, action: r.action, details: json(r.details) as Record<string, unknown> }))
  }

  async version(): Promise<bigint> {
    const { rows } = await this.db.query<{ version: string | number }>('SELECT version FROM tenant_directory_version')
    return BigInt(rows[0]?.version ?? 0)
  }
}

/** A file token's id is derived from its hash (the file has no ids), so re-seeding keeps it stable. */
export const fileTokenId = (sha256: string) => `file-${sha256.slice(0, 12)}`

async function insertToken(tx: SqlQueryable, tenant: string, token: { id: string; sha256: string; source: string }): Promise<void> {
  const { rows } = await tx.query<{ tenant: string }>('SELECT tenant FROM tenant_tokens WHERE sha256 = $1', [token.sha256])
  // The same token for two tenants would make it ambiguous which tenant a request is for.
  if (rows[0]) throw new TokenInUseError(tenant)
  await tx.query('INSERT INTO tenant_tokens (tenant, id, sha256, source) VALUES ($1, $2, $3, $4)', [tenant, token.id, token.sha256, token.source])
}

export async function openSqlTenantStore(db: SqlDatabase): Promise<SqlTenantStore> {
  const store = new SqlTenantStore(db)
  await store.migrate()
  return store
}
