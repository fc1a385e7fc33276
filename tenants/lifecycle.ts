// Kombo's integration lifecycle webhooks, acted on: a customer connecting their HR system binds
// (or creates, paused, for an operator to review) the tenant their Learn Amp account names as
// `end_user.origin_id`; a deleted integration pauses the tenant and deactivates nobody; an
// integration Kombo reports INVALID or INACTIVE marks the tenant failing with the reason, and
// ACTIVE again clears it (the poller role restarts a poller that had stopped itself).
// Every action goes through the TenantStore, so it is audited and every role follows it.
import { TenantId } from '../schemas/envelope.ts'
import { TenantSettings, type Tenant } from '../schemas/tenant.ts'
import type { TenantStore } from './port.ts'
import type { TenantDirectory } from './directory.ts'
import { requestRelink, type RelinkRequests } from './relink-request.ts'

/** The lifecycle webhooks as the webhook parser hands them on (api/webhooks). */
export type IntegrationLifecycleEvent =
  | { kind: 'integration-created'; integrationId: string; originId: string | null }
  | { kind: 'integration-deleted'; integrationId: string; originId: string | null }
  | { kind: 'integration-state-changed'; integrationId: string; originId: string | null; state: string }

export type LifecycleAction =
  | 'bound'
  | 'created-paused'
  | 'logged'
  | 'paused'
  | 'marked-failing'
  | 'failing-cleared'
  | 'reconnect-needs-operator'
  | 'relink-requested'
  | 'nothing-to-do'

export interface LifecycleOutcome {
  action: LifecycleAction
  tenant: string | null
  /** In words, for the log line. */
  detail: string
}

const ACTOR = 'kombo-webhook'
const FAILING_STATES = new Set(['INVALID', 'INACTIVE'])

export interface IntegrationLifecycleDeps {
  store: TenantStore
  directory: TenantDirectory
  /** KOMBO_UNKNOWN_INTEGRATION: an end user naming no tenant creates it paused, or is only logged. */
  unknownIntegration: 'create-paused' | 'log'
  /**
   * Where a reconnect (a new integration for a tenant that has one, or has users) asks for a
   * re-link. Without it a reconnect only marks the tenant failing for an operator.
   */
  relinks?: RelinkRequests & { hasEntities(tenant: string): Promise<boolean> }
}

export class IntegrationLifecycle {
  constructor(private readonly deps: IntegrationLifecycleDeps) {}

  async handle(event: IntegrationLifecycleEvent): Promise<LifecycleOutcome> {
    const outcome = await this.decide(event)
    if (!['logged', 'nothing-to-do'].includes(outcome.action)) await this.deps.directory.refresh()
    return outcome
  }

  private async decide(event: IntegrationLifecycleEvent): Promise<LifecycleOutcome> {
    switch (event.kind) {
      case 'integration-created':
        return this.created(event.integrationId, event.originId)
      case 'integration-deleted': {
        const tenant = await this.deps.store.byIntegration(event.integrationId)
        if (!tenant) return { action: 'nothing-to-do', tenant: null, detail: `integration ${event.integrationId} is bound to no tenant` }
        // The customer deleted the old connection after making a new one: the re-link replaces it.
        const relinking = this.deps.relinks ? (await this.deps.relinks.runsOf(tenant.id)).some((r) => r.state === 'pending' || r.state === 'running') : false
        if (relinking) return { action: 'nothing-to-do', tenant: tenant.id, detail: `integration ${event.integrationId} is being replaced by a re-link` }
        const reason = `Kombo deleted integration ${event.integrationId}; polling paused, nobody deactivated`
        await this.deps.store.update(tenant.id, { status: 'paused', failingReason: reason }, { actor: ACTOR, action: 'tenant.paused', details: { integrationId: event.integrationId, why: 'integration-deleted' } })
        return { action: 'paused', tenant: tenant.id, detail: reason }
      }
      case 'integration-state-changed': {
        const tenant = await this.deps.store.byIntegration(event.integrationId)
        if (!tenant) return { action: 'nothing-to-do', tenant: null, detail: `integration ${event.integrationId} is bound to no tenant` }
        if (FAILING_STATES.has(event.state)) {
          const reason = `Kombo reports integration ${event.integrationId} ${event.state}: the customer must reconnect or fix it in Kombo`
          if (tenant.failingReason === reason) return { action: 'nothing-to-do', tenant: tenant.id, detail: 'already marked failing' }
          await this.deps.store.update(tenant.id, { failingReason: reason }, { actor: ACTOR, action: 'tenant.marked-failing', details: { integrationId: event.integrationId, state: event.state } })
          return { action: 'marked-failing', tenant: tenant.id, detail: reason }
        }
        if (event.state === 'ACTIVE' && tenant.failingReason !== null) {
          await this.deps.store.update(tenant.id, { failingReason: null }, { actor: ACTOR, action: 'tenant.failing-cleared', details: { integrationId: event.integrationId, state: event.state } })
          return { action: 'failing-cleared', tenant: tenant.id, detail: `integration ${event.integrationId} ACTIVE again` }
        }
        return { action: 'nothing-to-do', tenant: tenant.id, detail: `state ${event.state}` }
      }
    }
  }

  private async created(integrationId: string, originId: string | null): Promise<LifecycleOutcome> {
    const bound = await this.deps.store.byIntegration(integrationId)
    if (bound) return { action: 'nothing-to-do', tenant: bound.id, detail: `integration ${integrationId} is already bound to tenant ${bound.id}` }
    const named: Tenant | null = originId ? await this.deps.store.get(originId) : null
    if (named && named.status !== 'offboarded') {
      const hasUsers = named.integrationId === null && this.deps.relinks ? await this.deps.relinks.hasEntities(named.id) : false
      if (named.integrationId === null && !hasUsers) {
        await this.deps.store.update(named.id, { integrationId }, { actor: ACTOR, action: 'tenant.integration-bound', details: { integrationId } })
        return { action: 'bound', tenant: named.id, detail: `integration ${integrationId} bound` }
      }
      // A new integration for a tenant that has one: a reconnect. Its Kombo ids are new, so
      // switching to it now would import every employee a second time: re-link it first.
      if (this.deps.relinks) {
        const run = await requestRelink(this.deps.store, this.deps.relinks, named, integrationId, ACTOR)
        return { action: 'relink-requested', tenant: named.id, detail: `re-link to integration ${integrationId} ${run.state}` }
      }
      const reason = `Kombo reports a new integration ${integrationId} for this tenant (bound: ${named.integrationId}); it is not polled until an operator re-links it`
      await this.deps.store.update(named.id, { failingReason: reason }, { actor: ACTOR, action: 'tenant.reconnect-reported', details: { integrationId, boundIntegrationId: named.integrationId } })
      return { action: 'reconnect-needs-operator', tenant: named.id, detail: reason }
    }
    const id = TenantId.safeParse(originId)
    if (this.deps.unknownIntegration === 'log' || !id.success || named) {
      const why = !originId ? 'names no origin_id' : !id.success ? `origin_id is no valid tenant id` : named ? `tenant ${originId} is offboarded` : 'creating tenants from webhooks is off (KOMBO_UNKNOWN_INTEGRATION=log)'
      return { action: 'logged', tenant: null, detail: `integration ${integrationId}: ${why}` }
    }
    // Paused with the safe defaults (nobody invited automatically) and no token: an operator reviews it.
    await this.deps.store.create(
      { id: id.data, integrationId, settings: TenantSettings.parse({ invitePolicy: { mode: 'manual' } }), status: 'paused', tokens: [] },
      { actor: ACTOR, action: 'tenant.created', details: { integrationId, paused: true, why: 'integration-created for an unknown end user' } },
    )
    return { action: 'created-paused', tenant: id.data, detail: `tenant ${id.data} created paused for review` }
  }
}

/**
 * The lifecycle event in a verified webhook, or null for any other webhook (data-changed …). Reads
 * the parser's `kind` (or the older `type`), so it fits whichever webhook event shape the API hands on.
 */
export function lifecycleEventOf(event: { kind?: string; type?: string; integrationId: string; originId?: string | null; state?: string | null }): IntegrationLifecycleEvent | null {
  const kind = event.kind ?? event.type
  const originId = event.originId ?? null
  if (kind === 'integration-created' || kind === 'integration-deleted') return { kind, integrationId: event.integrationId, originId }
  if (kind === 'integration-state-changed' && typeof event.state === 'string') return { kind, integrationId: event.integrationId, originId, state: event.state }
  return null
}
