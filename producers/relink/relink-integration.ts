// One re-link: the tenant's customer reconnected their HR system and Kombo gave it a new
// integration with new ids. Every resource of the new integration is listed in full, each record
// is matched to the entity we already have (match.ts: remote_id, then work email for employees),
// the aliases are stored (relink-store.ts) and the re-link is recorded in each matched employee's
// stream (EmployeeRelinked). Only after that does the caller switch the tenant to the new
// integration, so the first record the new poller publishes already finds its alias.
//
// Groups, locations, legal entities, absence types and absences are matched the same way (by
// remote_id; they have no email) and aliased, so teams are not duplicated and employees' team,
// location and manager references keep pointing at the existing entities. Their streams get no
// event of their own: nothing about them is personal, and their alias row (with `matched_by`) is
// the record of the re-link.
import type { SqlQueryable } from '../../sql/database.ts'
import { komboResources, type KomboResource } from '../../schemas/kombo.ts'
import { streamCategories } from '../../schemas/streams.ts'
import type { KomboClient } from '../kombo/client.ts'
import type { RelinkEmployeeCommand } from '../../processors/commands/relink-employee.ts'
import { matchRecords, type ExistingEntity, type IncomingRecord } from './match.ts'
import { REPORT_LIMIT, type IdAlias, type RelinkReport, type RelinkRun, type SqlRelinkStore } from './relink-store.ts'

/** One matched employee: the relink command's fields, the actor added by whoever records it. */
export type EmployeeRelink = Omit<RelinkEmployeeCommand, 'actor'>

export interface RelinkDeps {
  client: Pick<KomboClient, 'listPage'>
  /** The view database: the entities we already have (view_entity_states). */
  db: SqlQueryable
  relinks: SqlRelinkStore
  /** Records the re-link in the employee's stream; false when it was recorded before (a repeated run). */
  recordEmployeeRelink: (relink: EmployeeRelink) => Promise<boolean>
  pageSize?: number
  signal?: AbortSignal
}

const str = (v: unknown) => (typeof v === 'string' ? v : null)

/** Every record of one resource of the integration, reduced to what matching needs (no other personal data is kept). */
async function listAll(deps: RelinkDeps, run: RelinkRun, resource: KomboResource): Promise<IncomingRecord[]> {
  const out: IncomingRecord[] = []
  let cursor: string | undefined
  const cursors = new Set<string>()
  do {
    const page = await deps.client.listPage(run.toIntegrationId, resource, { cursor, pageSize: deps.pageSize ?? 250, includeDeleted: true, tenant: run.tenant, signal: deps.signal })
    for (const r of page.results) {
      const record = r as Record<string, unknown> | null
      const komboId = str(record?.id)
      if (komboId) out.push({ komboId, remoteId: str(record?.remote_id), workEmail: resource === 'employees' ? str(record?.work_email) : null })
    }
    const next = page.next ?? undefined
    if (next !== undefined && cursors.has(next)) throw new Error(`Kombo repeated a cursor while listing ${resource} of integration ${run.toIntegrationId}`)
    if (next !== undefined) cursors.add(next)
    cursor = next
  } while (cursor)
  return out
}

async function existingEntities(db: SqlQueryable, tenant: string): Promise<Map<string, ExistingEntity[]>> {
  const { rows } = await db.query<{ category: string; id: string; remote_id: string | null; work_email: string | null }>(
    `SELECT category, id, state->'record'->>'remote_id' AS remote_id, state->'record'->>'work_email' AS work_email
     FROM view_entity_states WHERE tenant = $1 ORDER BY category, id`,
    [tenant],
  )
  const out = new Map<string, ExistingEntity[]>()
  for (const r of rows) {
    const list = out.get(r.category) ?? []
    list.push({ entityId: r.id, remoteId: r.remote_id, workEmail: r.work_email })
    out.set(r.category, list)
  }
  return out
}

export async function relinkIntegration(deps: RelinkDeps, run: RelinkRun): Promise<RelinkReport> {
  const existing = await existingEntities(deps.db, run.tenant)
  // The ids the entities had under the integration being replaced (itself a re-link, or the ids themselves).
  const previous = run.fromIntegrationId ? await deps.relinks.aliasesOf(run.tenant, run.fromIntegrationId) : new Map()
  const report: RelinkReport = { resources: {}, employeesRelinked: 0, unmatched: { new: [], existing: [] } }
  const aliases: IdAlias[] = []
  const relinks: EmployeeRelink[] = []
  for (const resource of komboResources) {
    const incoming = await listAll(deps, run, resource)
    const have = existing.get(streamCategories[resource]) ?? []
    const outcome = matchRecords(have, incoming, { byWorkEmail: resource === 'employees' })
    const previousIdOf = new Map([...((previous.get(resource) as Map<string, string> | undefined) ?? new Map<string, string>())].map(([komboId, entityId]) => [entityId, komboId]))
    for (const m of outcome.matches) {
      aliases.push({ resource, komboId: m.komboId, entityId: m.entityId, matchedBy: m.matchedBy })
      if (resource !== 'employees') continue
      const fromKomboId = previousIdOf.get(m.entityId) ?? m.entityId
      relinks.push({ tenant: run.tenant, entityId: m.entityId, fromKomboId, toKomboId: m.komboId, fromIntegrationId: run.fromIntegrationId, toIntegrationId: run.toIntegrationId, matchedBy: m.matchedBy })
    }
    report.resources[resource] = {
      listed: incoming.length,
      byRemoteId: outcome.matches.filter((m) => m.matchedBy === 'remote_id').length,
      byWorkEmail: outcome.matches.filter((m) => m.matchedBy === 'work_email').length,
      unmatched: outcome.unmatchedIncoming.length,
      existingUnmatched: outcome.unmatchedExisting.length,
    }
    for (const r of outcome.unmatchedIncoming) if (report.unmatched.new.length < REPORT_LIMIT) report.unmatched.new.push({ resource, komboId: r.komboId, remoteId: r.remoteId })
    for (const e of outcome.unmatchedExisting) if (report.unmatched.existing.length < REPORT_LIMIT) report.unmatched.existing.push({ resource, entityId: e.entityId })
  }
  // Aliases first: were the run to stop between the two, a repeat writes the same rows and skips
  // the events already recorded.
  await deps.relinks.putAliases(run.tenant, run.toIntegrationId, aliases)
  for (const relink of relinks) if (await deps.recordEmployeeRelink(relink)) report.employeesRelinked += 1
  return report
}
