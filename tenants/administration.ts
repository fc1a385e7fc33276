// The operator's commands on tenants, behind the /v1/admin routes and the lifecycle webhooks:
// onboard, change settings (or ask what a change would do), rotate tokens, pause, offboard (and
// crypto-shred). Each writes through the TenantStore (audited, version bumped) and then refreshes
// this process's directory, so this process follows at once and the others within a refresh.
import type { SqlQueryable } from '../sql/database.ts'
import type { SyncState, SyncStateStore } from '../producers/sync-state/port.ts'
import { TenantSettings, type Tenant, type TenantAuditRecord, type TenantStatus } from '../schemas/tenant.ts'
import { employeeStatesOf, markUninvitedEmployeesDue, tenantViewCounts, unerasedEmployeeIdsOf } from '../projections/viewstore/tenant-employees.ts'
import { TenantNotFoundError, TenantOffboardedError, type StoredToken, type TenantStore } from './port.ts'
import type { TenantDirectory } from './directory.ts'
import { inviteImpact, type InviteImpact } from './invite-impact.ts'
import { newTenantToken } from './tokens.ts'
import type { RelinkRun } from '../producers/relink/relink-store.ts'
import { requestRelink, type RelinkRequests } from './relink-request.ts'

export interface TenantAdministrationDeps {
  store: TenantStore
  directory: TenantDirectory
  /** The view database (employee states, counts). */
  db: SqlQueryable
  syncState: SyncStateStore
  /** Crypto-shreds one employee (key deleted, views purged), as the per-employee erasure does. */
  eraseEmployee: (tenant: string, employeeId: string) => Promise<void>
  now: () => Date
  /** Re-links of a reconnected integration (producers/relink); without it the operator API offers none. */
  relinks?: RelinkRequests
}

export type SettingsPatch = Partial<TenantSettings> & { paused?: boolean }

export interface CreateTenantInput {
  id: string
  integrationId: string | null
  settings?: Partial<TenantSettings>
  paused?: boolean
}

export interface TenantDetail {
  tenant: Tenant
  tokens: Array<Pick<StoredToken, 'id' | 'source' | 'createdAt'>>
  sync: { polling: 'on' | 'paused' | 'off'; failingReason: string | null; resources: SyncState[] }
  counts: Awaited<ReturnType<typeof tenantViewCounts>>
  audit: TenantAuditRecord[]
  /** Re-links to a new Kombo integration, newest first, with what could not be matched. */
  relinks: RelinkRun[]
}

export interface SettingChange {
  field: string
  from: unknown
  to: unknown
}

export interface PatchOutcome {
  dryRun: boolean
  tenant: Tenant
  changes: SettingChange[]
  /** What the change does (or would do): invites, and whether polling stops or resumes. */
  impact: { invites?: InviteImpact; polling?: 'stops' | 'resumes' }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

export class TenantAdministration {
  constructor(private readonly deps: TenantAdministrationDeps) {}

  private async existing(id: string): Promise<Tenant> {
    const tenant = await this.deps.store.get(id)
    if (!tenant) throw new TenantNotFoundError(id)
    return tenant
  }

  async create(input: CreateTenantInput, actor: string): Promise<{ tenant: Tenant; token: { id: string; token: string } }> {
    const settings = TenantSettings.parse(input.settings ?? {})
    const issued = newTenantToken()
    const tenant = await this.deps.store.create(
      {
        id: input.id,
        integrationId: input.integrationId,
        settings,
        status: input.paused ? 'paused' : 'active',
        tokens: [{ id: issued.id, sha256: issued.sha256, source: 'api' }],
      },
      { actor, action: 'tenant.created', details: { integrationId: input.integrationId, settings, paused: Boolean(input.paused), tokenId: issued.id } },
    )
    await this.deps.directory.refresh()
    return { tenant, token: { id: issued.id, token: issued.token } }
  }

  list(): Promise<Tenant[]> {
    return this.deps.store.list()
  }

  async detail(id: string): Promise<TenantDetail> {
    const tenant = await this.existing(id)
    const [tokens, resources, counts, audit, relinks] = await Promise.all([
      this.deps.store.tokensOf(id),
      this.deps.syncState.list(id),
      tenantViewCounts(this.deps.db, id),
      this.deps.store.auditTrail(id),
      this.deps.relinks?.runsOf(id) ?? Promise.resolve([]),
    ])
    const polling = tenant.status === 'active' && tenant.integrationId ? 'on' : tenant.status === 'offboarded' ? 'off' : 'paused'
    return { tenant, tokens, sync: { polling, failingReason: tenant.failingReason, resources }, counts, audit, relinks }
  }

  /**
   * The customer reconnected: re-link the tenant to this new integration (its records matched to
   * the existing users by remote_id, then work email) before it is polled. Idempotent; a failed
   * re-link is asked for again. Null when this process has no re-links (the route answers 501).
   */
  async relink(id: string, integrationId: string, actor: string): Promise<RelinkRun | null> {
    if (!this.deps.relinks) return null
    const tenant = await this.existing(id)
    if (tenant.status === 'offboarded') throw new TenantOffboardedError(id)
    const run = await requestRelink(this.deps.store, this.deps.relinks, tenant, integrationId, actor)
    await this.deps.directory.refresh()
    return run
  }

  async patch(id: string, patch: SettingsPatch, options: { dryRun: boolean; actor: string }): Promise<PatchOutcome> {
    const current = await this.existing(id)
    if (current.status === 'offboarded') throw new TenantOffboardedError(id)
    const { paused, ...settingsPatch } = patch
    const settings = TenantSettings.parse({ ...current.settings, ...settingsPatch })
    const status: TenantStatus = paused === undefined ? current.status : paused ? 'paused' : 'active'
    const changes: SettingChange[] = []
    for (const field of Object.keys(settings) as Array<keyof TenantSettings>) {
      if (!same(current.settings[field], settings[field])) changes.push({ field, from: current.settings[field], to: settings[field] })
    }
    if (status !== current.status) changes.push({ field: 'paused', from: current.status === 'paused', to: status === 'paused' })
    const now = this.deps.now()
    const impact: PatchOutcome['impact'] = {}
    const policyChanged = changes.some((c) => c.field === 'invitePolicy')
    if (policyChanged) impact.invites = inviteImpact(id, await employeeStatesOf(this.deps.db, id), settings.invitePolicy, now, settings.timeZone)
    if (status !== current.status) impact.polling = status === 'paused' ? 'stops' : 'resumes'
    if (options.dryRun) return { dryRun: true, tenant: { ...current, settings, status }, changes, impact }

    const tenant = await this.deps.store.update(
      id,
      { settings, status },
      { actor: options.actor, action: policyChanged ? 'tenant.invite-policy-changed' : 'tenant.updated', details: { changes, ...(impact.invites ? { invites: impact.invites } : {}) } },
    )
    // Users not yet invited are decided again under the new policy or time zone by the clock.
    if (policyChanged || changes.some((c) => c.field === 'timeZone')) await markUninvitedEmployeesDue(this.deps.db, id, now)
    await this.deps.directory.refresh()
    return { dryRun: false, tenant, changes, impact }
  }

  async issueToken(id: string, actor: string): Promise<{ id: string; token: string }> {
    const tenant = await this.existing(id)
    if (tenant.status === 'offboarded') throw new TenantOffboardedError(id)
    const issued = newTenantToken()
    await this.deps.store.addToken(id, { id: issued.id, sha256: issued.sha256, source: 'api' }, { actor, action: 'token.issued', details: { tokenId: issued.id } })
    await this.deps.directory.refresh()
    return { id: issued.id, token: issued.token }
  }

  /** false when the tenant has no such token. */
  async revokeToken(id: string, tokenId: string, actor: string): Promise<boolean> {
    await this.existing(id)
    const revoked = await this.deps.store.revokeToken(id, tokenId, { actor, action: 'token.revoked', details: { tokenId } })
    if (revoked) await this.deps.directory.refresh()
    return revoked
  }

  /**
   * Offboarding: polling stops and every token is refused at once; with `erase`, every employee
   * of the tenant is crypto-shredded (one audit record for all of them). Running it again on an
   * offboarded tenant is allowed: an erase finishes whatever an interrupted one left.
   */
  async offboard(id: string, options: { erase: boolean; actor: string; reason: string | null }): Promise<{ tenant: Tenant; employeesErased: number }> {
    let tenant = await this.existing(id)
    if (tenant.status !== 'offboarded') {
      tenant = await this.deps.store.offboard(id, { actor: options.actor, action: 'tenant.offboarded', details: { erase: options.erase, reason: options.reason } })
      await this.deps.directory.refresh()
    }
    let employeesErased = 0
    if (options.erase) {
      const ids = await unerasedEmployeeIdsOf(this.deps.db, id)
      for (const employeeId of ids) await this.deps.eraseEmployee(id, employeeId)
      employeesErased = ids.length
      await this.deps.store.update(id, {}, { actor: options.actor, action: 'tenant.personal-data-erased', details: { employees: employeesErased, reason: options.reason } })
    }
    return { tenant, employeesErased }
  }
}
