// At start, every role makes sure the configured tenants exist: TENANTS_FILE's tenants are created
// or updated to what the file says (tokens from the file replaced, tokens issued through the
// operator API kept); without a file the demo tenant is created once, and afterwards only its
// token follows DEMO_API_TOKEN — its settings are the operator's to change.
import type { TenantConfig } from '../config/config.ts'
import { TenantSettings } from '../schemas/tenant.ts'
import { TenantExistsError, type TenantStore } from './port.ts'
import { fileTokenId } from './sql.ts'

const SEED_ACTOR = 'tenants-file'

export function settingsFromConfig(t: TenantConfig): TenantSettings {
  return TenantSettings.parse({
    invitePolicy: t.invitePolicy,
    timeZone: t.timeZone,
    pollIntervalMs: t.pollIntervalMs ?? null,
    fullReconcileIntervalMs: t.fullReconcileIntervalMs ?? null,
    optionalFields: t.optionalFields,
    optionalResources: t.optionalResources,
    massDeactivation: t.massDeactivation,
  })
}

export interface SeedOutcome {
  created: string[]
  updated: string[]
}

export async function seedTenants(store: TenantStore, tenants: TenantConfig[], options: { fromFile: boolean }): Promise<SeedOutcome> {
  const outcome: SeedOutcome = { created: [], updated: [] }
  for (const t of tenants) {
    // Roles apart start at the same time: a create that lost the race becomes an update.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await seedOne(store, t, options, outcome)
        break
      } catch (err) {
        if (!(err instanceof TenantExistsError) || attempt > 0) throw err
      }
    }
  }
  return outcome
}

async function seedOne(store: TenantStore, t: TenantConfig, options: { fromFile: boolean }, outcome: SeedOutcome): Promise<void> {
  const settings = settingsFromConfig(t)
  const existing = await store.get(t.id)
  if (!existing) {
    await store.create(
      {
        id: t.id,
        integrationId: t.integrationId,
        settings,
        status: t.paused ? 'paused' : 'active',
        tokens: t.tokenSha256.map((h) => ({ id: fileTokenId(h.toLowerCase()), sha256: h, source: 'file' as const })),
      },
      { actor: SEED_ACTOR, action: 'tenant.created', details: { integrationId: t.integrationId, settings } },
    )
    outcome.created.push(t.id)
    return
  }
  if (existing.status === 'offboarded') return // an offboarded tenant stays offboarded, whatever the file says
  if (options.fromFile) {
    const status = t.paused === undefined ? existing.status : t.paused ? 'paused' : 'active'
    const differs =
      existing.integrationId !== t.integrationId || existing.status !== status || JSON.stringify(existing.settings) !== JSON.stringify(settings)
    if (differs) {
      await store.update(
        t.id,
        { integrationId: t.integrationId, settings, status },
        { actor: SEED_ACTOR, action: 'tenant.updated', details: { before: { integrationId: existing.integrationId, settings: existing.settings, status: existing.status }, after: { integrationId: t.integrationId, settings, status } } },
      )
      outcome.updated.push(t.id)
    }
  }
  await store.replaceFileTokens(t.id, t.tokenSha256, { actor: SEED_ACTOR, action: 'tokens.replaced-from-config' })
}
