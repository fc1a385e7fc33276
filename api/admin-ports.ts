// What the operator API (/v1/admin) needs: the tenant commands (tenants/administration.ts
// implements them) and the hash of the operator's token. Errors are matched by `name`, so the API
// does not depend on the tenant store: TenantNotFoundError (404), TenantExistsError,
// IntegrationAlreadyBoundError, TenantOffboardedError, TokenInUseError (409).
import type { Tenant } from '../schemas/tenant.ts'
import type { RelinkRun } from '../producers/relink/relink-store.ts'
import type { CreateTenantInput, PatchOutcome, SettingsPatch, TenantDetail } from '../tenants/administration.ts'

export interface TenantAdminCommands {
  create(input: CreateTenantInput, actor: string): Promise<{ tenant: Tenant; token: { id: string; token: string } }>
  list(): Promise<Tenant[]>
  detail(id: string): Promise<TenantDetail>
  patch(id: string, patch: SettingsPatch, options: { dryRun: boolean; actor: string }): Promise<PatchOutcome>
  issueToken(id: string, actor: string): Promise<{ id: string; token: string }>
  revokeToken(id: string, tokenId: string, actor: string): Promise<boolean>
  offboard(id: string, options: { erase: boolean; actor: string; reason: string | null }): Promise<{ tenant: Tenant; employeesErased: number }>
  /** Re-link to a reconnected integration; null when this deployment has no re-links. Optional: older doubles lack it. */
  relink?(id: string, integrationId: string, actor: string): Promise<RelinkRun | null>
}

export interface AdminApi {
  /** sha256 (hex) of ADMIN_API_TOKEN; the token itself never reaches the API. */
  tokenSha256: string
  tenants: TenantAdminCommands
}
