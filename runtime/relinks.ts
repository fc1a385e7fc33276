// The poller role's part in re-links (producers/relink): the Relinker that carries out requested
// re-links with the poller's Kombo client, wired to the stores, the log and the metrics; and the
// publish hook that renames a re-linked integration's records to the existing entities' ids.
import type { ChangeEnvelope } from '../schemas/envelope.ts'
import type { KomboClient } from '../producers/kombo/client.ts'
import { Relinker } from '../producers/relink/relinker.ts'
import { aliasingPublish } from '../producers/relink/apply-aliases.ts'
import { relinkEmployee } from '../processors/commands/relink-employee.ts'
import type { RoleContext } from './roles/context.ts'

export function relinkerOf(ctx: RoleContext, client: Pick<KomboClient, 'listPage'>): Relinker {
  const { stores, metrics, logger, now } = ctx
  return new Relinker({
    client,
    db: stores.db,
    relinks: stores.relinks,
    tenants: stores.tenants,
    syncState: stores.syncState,
    recordEmployeeRelink: (relink) => relinkEmployee({ store: stores.eventStore, now }, { ...relink, actor: 'relinker' }),
    logger: { info: (o, m) => logger.info(o, m), warn: (o, m) => logger.warn(o, m), error: (o, m) => logger.error(o, m) },
    onFinished: (run, report) => {
      for (const [resource, c] of Object.entries(report.resources)) {
        metrics.relinkMatched.set({ tenant: run.tenant, resource, matched_by: 'remote_id' }, c.byRemoteId)
        metrics.relinkMatched.set({ tenant: run.tenant, resource, matched_by: 'work_email' }, c.byWorkEmail)
        metrics.relinkUnmatched.set({ tenant: run.tenant, resource, side: 'new' }, c.unmatched)
        metrics.relinkUnmatched.set({ tenant: run.tenant, resource, side: 'existing' }, c.existingUnmatched)
      }
    },
  })
}

/** `publish` for one tenant's poller: its integration's records under the ids of the existing streams. */
export function relinkedPublish(ctx: RoleContext, tenant: string, integrationId: string, publish: (envelopes: ChangeEnvelope[]) => Promise<void>) {
  return aliasingPublish(() => ctx.stores.relinks.aliasesOf(tenant, integrationId), publish)
}
