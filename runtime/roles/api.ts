// The read API role: the Fastify app over this process's stores, listening on HOST:PORT. Webhooks
// trigger a poll only for tenants this process polls (`pollerOf`).
import { scopedHrRecords } from '../../api/hr-record-scopes.ts'
import { decideHold, HoldAlreadyDecidedError, HoldNotFoundError } from '../../processors/mass-deactivation/hold-commands.ts'
import { reportOpenHolds } from '../mass-deactivation.ts'
import { buildApiApp } from '../../api/app.ts'
import { userCommandsOver, eraserOver } from '../../api/domain-commands.ts'
import type { ApiDeps } from '../../api/ports.ts'
import { directoryAuthenticator } from '../../tenants/authenticator.ts'
import { TenantAdministration } from '../../tenants/administration.ts'
import { IntegrationLifecycle, lifecycleEventOf } from '../../tenants/lifecycle.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import { purgeUserFromViewsIn } from '../../projections/viewstore/erase-user.ts'
import { inviteUser } from '../../processors/commands/invite-user.ts'
import { createUserHistory } from '../../projections/history.ts'
import { openChangeLogReader } from '../../projections/audit/change-log-store.ts'
import { tenantChangeSource } from '../../tenants/change-log.ts'
import type { TenantPoller } from '../../producers/tenant-poller.ts'
import { belongsToTenant, redriveDeadLetters } from '../dead-letters.ts'
import { eraserOf } from '../erasure.ts'
import type { Readiness } from '../readiness.ts'
import { initialSyncSourceOf, readInitialSync } from '../progress.ts'
import type { RoleContext, RoleHandle } from './context.ts'

export interface ApiRole extends RoleHandle {
  url: string
}

export async function startApiRole(
  ctx: RoleContext,
  deps: { readiness: Readiness; pollerOf: (tenant: string) => TenantPoller | undefined },
): Promise<ApiRole> {
  const { config } = ctx
  const app = await buildApiApp(apiDeps(ctx, deps), {
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    rateLimitPerMinute: config.apiRateLimitPerMinute,
    viewCache: ctx.tuning.api?.viewCache === false ? false : undefined,
    komboWebhook: { secret: config.komboWebhook.secret, toleranceMs: config.komboWebhook.toleranceSeconds * 1000, now: ctx.now },
  })
  try {
    const url = await app.listen({ host: config.http.host, port: config.http.port })
    return { url, stop: () => app.close() }
  } catch (err) {
    await app.close()
    throw err
  }
}

function apiDeps(ctx: RoleContext, deps: { readiness: Readiness; pollerOf: (tenant: string) => TenantPoller | undefined }): ApiDeps {
  const { config, stores, metrics, logger, now } = ctx
  const lifecycle = new IntegrationLifecycle({ store: stores.tenants, directory: ctx.tenants, unknownIntegration: config.unknownIntegration, relinks: stores.relinks })
  return {
    views: stores.views,
    history: createUserHistory(stores.eventStore, ctx.timeZoneOf),
    // The tenant's own audit trail (settings, tokens, offboarding) merged in: same database.
    changes: openChangeLogReader(stores.db, tenantChangeSource(stores.db)),
    now,
    commands: userCommandsOver((command) => inviteUser({ store: stores.eventStore, now, timeZoneOf: ctx.timeZoneOf }, command)),
    syncStatus: {
      list: async (tenant) =>
        (await stores.syncState.list(tenant)).map((s) => ({
          ...s,
          // A tenant-wide reason (e.g. Kombo reports the integration INVALID) makes every resource failing.
          ...tenantFailing(ctx.tenants.get(tenant)?.failingReason ?? null),
          // Seconds since the resource was last fully polled: the sync's lag behind Kombo.
          lagSeconds: s.lastSuccessAt ? Math.max(0, Math.round((now().getTime() - Date.parse(s.lastSuccessAt)) / 1000)) : null,
        })),
      initialSync: (tenant) => readInitialSync(initialSyncSourceOf(stores), tenant, now()),
      openHolds: (tenant) => stores.holds.list(tenant, 'open'),
    },
    webhooks: {
      onKomboEvent: async (event) => {
        const { kind, integrationId, webhookId } = event
        // Kombo's integration lifecycle: bind, create paused, pause, mark failing (tenants/lifecycle.ts).
        const lifecycleEvent = lifecycleEventOf(event)
        if (lifecycleEvent) {
          const outcome = await lifecycle.handle(lifecycleEvent)
          logger.info({ webhookId, integrationId, kind: lifecycleEvent.kind, ...outcome }, 'Kombo integration lifecycle webhook')
          return
        }
        const tenant = ctx.tenants.byIntegration(integrationId)
        const poller = tenant ? deps.pollerOf(tenant.id) : undefined
        if (!tenant || !poller) {
          // Unknown here (or polled by another process's poller role): nothing to do.
          logger.warn({ integrationId, kind, webhookId }, 'Kombo webhook for an integration this process does not poll; ignored')
          return
        }
        const resources = kind === 'data-changed' ? event.resources : undefined
        logger.info({ tenant: tenant.id, kind, webhookId, resources }, 'Kombo webhook: polling now')
        await poller.pollNow(resources)
      },
    },
    erasure: eraserOver(eraserOf(stores)),
    hrRecords: scopedHrRecords(stores.views, (tenant) => ctx.tenants.settingsOf(tenant)),
    holds: {
      list: (tenant, status) => stores.holds.list(tenant, status),
      decide: async (tenant, id, action, actor) => {
        try {
          const hold = await decideHold({ store: stores.eventStore, holds: stores.holds, views: stores.views, tenantSettingsOf: ctx.tenantSettingsOf, now }, tenant, id, action, actor)
          await reportOpenHolds(stores, metrics).catch(() => {})
          return { kind: 'decided', hold }
        } catch (err) {
          if (err instanceof HoldNotFoundError) return { kind: 'not_found' }
          if (err instanceof HoldAlreadyDecidedError) return { kind: 'conflict', message: err.message }
          throw err
        }
      },
    },
    deadLetters: {
      list: async (tenant, options) => (await stores.deadLetters.list({ ...options, tenant })).filter((l) => belongsToTenant(l, tenant)),
      redrive: (tenant, id) => redriveDeadLetters(stores, [id], { tenant }),
    },
    tenants: directoryAuthenticator(ctx.tenants),
    admin: config.adminTokenSha256 ? { tokenSha256: config.adminTokenSha256, tenants: tenantAdministration(ctx) } : undefined,
    readiness: () => deps.readiness.check(),
    metrics: {
      contentType: metrics.registry.contentType,
      render: () => {
        deps.readiness.refreshTenantFailing()
        return metrics.registry.metrics()
      },
    },
  }
}

function tenantAdministration(ctx: RoleContext): TenantAdministration {
  const { stores } = ctx
  return new TenantAdministration({
    store: stores.tenants,
    directory: ctx.tenants,
    db: stores.db,
    syncState: stores.syncState,
    // Offboarding with erase crypto-shreds each employee as the per-employee erasure does (key
    // deleted, views purged); the audit is one record for the whole tenant, written by the command.
    eraseEmployee: async (tenant, employeeId) => {
      // Key and views in one transaction: the views never serve data whose key is gone.
      await stores.personalDataKeys.erase(employeeStreamName(tenant, employeeId), { tenant, employeeId }, { together: (tx) => purgeUserFromViewsIn(tx, tenant, employeeId) })
    },
    now: ctx.now,
    relinks: stores.relinks,
  })
}

const tenantFailing = (reason: string | null) => (reason ? { failing: true, tenantFailingReason: reason } : {})
