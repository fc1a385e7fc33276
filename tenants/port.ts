// Where tenants live: the tenant table of the view/sync-state database (PGlite embedded, PostgreSQL
// in production), read by every role and changed at runtime by the operator API, Kombo's lifecycle
// webhooks and the tenants file at start. Every write bumps one version number in the same
// transaction, so a role in another process learns of a change by polling that number.
// Adapter: sql.ts. Contract: test/contracts/tenant-store.contract.ts.
import type { Tenant, TenantAuditRecord, TenantSettings, TenantStatus } from '../schemas/tenant.ts'
import { KomboSyncError } from '../errors/kombo-sync-error.ts'

/** One API token of a tenant, as stored: its id and the sha256 (hex) of the token, never the token. */
export interface StoredToken {
  tenant: string
  id: string
  sha256: string
  /** `file`: comes from TENANTS_FILE (replaced when the file changes); `api`: issued at runtime. */
  source: 'file' | 'api'
  createdAt: string
}

/** Who asked for a write and why; every write is audited in the same transaction. */
export interface AuditEntry {
  actor: string
  action: string
  details?: Record<string, unknown>
}

export interface NewTenant {
  id: string
  integrationId: string | null
  settings: TenantSettings
  status?: TenantStatus
  failingReason?: string | null
  tokens: Array<{ id: string; sha256: string; source: StoredToken['source'] }>
}

export interface TenantChange {
  integrationId?: string | null
  settings?: TenantSettings
  status?: TenantStatus
  failingReason?: string | null
}

export interface TenantStore {
  /** Every tenant, offboarded ones included, ordered by id. */
  list(): Promise<Tenant[]>
  get(id: string): Promise<Tenant | null>
  /** The tenant (not offboarded) bound to this Kombo integration, if any. */
  byIntegration(integrationId: string): Promise<Tenant | null>
  /** Throws TenantExistsError, or IntegrationAlreadyBoundError when another tenant has the integration. */
  create(tenant: NewTenant, audit: AuditEntry): Promise<Tenant>
  /** Throws TenantNotFoundError or IntegrationAlreadyBoundError. A change that changes nothing is still audited. */
  update(id: string, change: TenantChange, audit: AuditEntry): Promise<Tenant>
  /** Marks the tenant offboarded and deletes every token it has (the API refuses them at once). */
  offboard(id: string, audit: AuditEntry): Promise<Tenant>
  /** Every token of every tenant that is not offboarded (hashes only). */
  tokens(): Promise<StoredToken[]>
  /** The ids and times of one tenant's tokens (for operators; hashes stay inside). */
  tokensOf(tenant: string): Promise<Array<Pick<StoredToken, 'id' | 'source' | 'createdAt'>>>
  addToken(tenant: string, token: { id: string; sha256: string; source: StoredToken['source'] }, audit: AuditEntry): Promise<void>
  /** false when the tenant has no token with this id. */
  revokeToken(tenant: string, tokenId: string, audit: AuditEntry): Promise<boolean>
  /** Replaces the tenant's tokens from the file by these (tokens issued through the API stay). */
  replaceFileTokens(tenant: string, sha256s: string[], audit: AuditEntry): Promise<void>
  /** The tenant's audit trail, oldest first. */
  auditTrail(tenant: string): Promise<TenantAuditRecord[]>
  /** Goes up with every write, in any process: the cheap question "did anything change?". */
  version(): Promise<bigint>
}

export class TenantExistsError extends KomboSyncError {
  override name = 'TenantExistsError'
  readonly retriable = false
  constructor(readonly tenant: string) {
    super(`tenant ${tenant} already exists (offboarded tenants keep their id for the audit trail)`)
  }
}

export class IntegrationAlreadyBoundError extends KomboSyncError {
  override name = 'IntegrationAlreadyBoundError'
  readonly retriable = false
  constructor(
    readonly integrationId: string,
    readonly tenant: string,
  ) {
    super(`Kombo integration ${integrationId} is already bound to tenant ${tenant}`)
  }
}

export class TenantNotFoundError extends KomboSyncError {
  override name = 'TenantNotFoundError'
  readonly retriable = false
  constructor(readonly tenant: string) {
    super(`no tenant ${tenant}`)
  }
}

/** The same token hash for two tokens would make it ambiguous whom a request comes from. */
export class TokenInUseError extends KomboSyncError {
  override name = 'TokenInUseError'
  readonly retriable = false
  constructor(readonly tenant: string) {
    super(`tenant ${tenant}: this token hash is already in use; issue a new token`)
  }
}

/** The tenant was offboarded: it cannot be changed any more (its id stays taken for the audit trail). */
export class TenantOffboardedError extends KomboSyncError {
  override name = 'TenantOffboardedError'
  readonly retriable = false
  constructor(readonly tenant: string) {
    super(`tenant ${tenant} is offboarded; it cannot be changed (create a tenant with a new id to onboard the customer again)`)
  }
}
