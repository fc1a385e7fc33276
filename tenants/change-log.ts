// The tenant's own audit trail (tenant_audit, written by tenants/sql.ts with every change) as
// entries of the tenant-wide change log, merged by its reader (projections/audit/change-log-store.ts)
// into `GET /changes`. Read from the trail rather than copied into audit_changes: the trail is never
// rebuilt (the change log is, with the views) and stays the one record of what was done.
// Only named, known fields leave the trail: never a token or its hash, never an employee's data.
import type { SqlQueryable } from '../sql/database.ts'
import { tenantChangeEntryTypes, type TenantChangeEntry, type TenantChangeEntryType } from '../schemas/audit.ts'
import type { ChangeKey, ChangeQuery, ChangeSource } from '../projections/audit/change-log-store.ts'

type Change = TenantChangeEntry['changes'][number]

/** The trail's actions per entry type; an action not named here is a settings change. */
const actionsOf: Record<Exclude<TenantChangeEntryType, 'TenantSettingsChanged'>, string[]> = {
  TenantCreated: ['tenant.created'],
  TenantTokensChanged: ['token.issued', 'token.revoked', 'tokens.replaced-from-config'],
  TenantIntegrationChanged: [
    'tenant.integration-bound',
    'tenant.integration-relinked',
    'tenant.relink-requested',
    'tenant.relink-failed',
    'tenant.reconnect-reported',
    'tenant.marked-failing',
    'tenant.failing-cleared',
  ],
  TenantOffboarded: ['tenant.offboarded'],
  TenantPersonalDataErased: ['tenant.personal-data-erased'],
}
const knownActions = Object.values(actionsOf).flat()

export function tenantEntryTypeOf(action: string): TenantChangeEntryType {
  for (const [type, actions] of Object.entries(actionsOf)) if (actions.includes(action)) return type as TenantChangeEntryType
  return 'TenantSettingsChanged'
}

export interface TenantAuditRow {
  seq: string
  /** ISO with microseconds: the trail's own precision, so the cursor neither skips nor repeats a row. */
  t: string
  actor: string
  action: string
  details: Record<string, unknown>
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/** `{ field, from, to }` (the operator API) or `{ field, before, after }` (the store) lists. */
function listedChanges(list: unknown): Change[] {
  if (!Array.isArray(list)) return []
  return list.filter(isRecord).filter((c) => typeof c.field === 'string').map((c) => ({
    field: c.field as string,
    before: 'from' in c ? c.from : (c.before ?? null),
    after: 'to' in c ? c.to : (c.after ?? null),
  }))
}

/** The tenants file's update records whole before/after snapshots: their differences, setting by setting. */
function snapshotChanges(before: unknown, after: unknown): Change[] {
  if (!isRecord(before) || !isRecord(after)) return []
  const out: Change[] = []
  const settingsBefore = isRecord(before.settings) ? before.settings : {}
  const settingsAfter = isRecord(after.settings) ? after.settings : {}
  for (const field of new Set([...Object.keys(settingsBefore), ...Object.keys(settingsAfter)])) {
    if (!same(settingsBefore[field], settingsAfter[field])) out.push({ field, before: settingsBefore[field] ?? null, after: settingsAfter[field] ?? null })
  }
  return out
}

const added = (field: string, value: unknown): Change[] => (value === undefined ? [] : [{ field, before: null, after: value }])

function changesOf(action: string, d: Record<string, unknown>): Change[] {
  const out: Change[] = []
  switch (action) {
    case 'tenant.created':
      out.push(...added('integrationId', d.integrationId), ...added('paused', d.paused), ...added('token', d.tokenId))
      if (isRecord(d.settings)) for (const [field, value] of Object.entries(d.settings)) out.push({ field, before: null, after: value })
      break
    case 'token.issued':
      out.push({ field: 'token', before: null, after: d.tokenId ?? null })
      break
    case 'token.revoked':
      out.push({ field: 'token', before: d.tokenId ?? null, after: null })
      break
    case 'tokens.replaced-from-config':
      out.push(...added('fileTokensAdded', d.tokensAdded), ...added('fileTokensRemoved', d.tokensRemoved))
      break
    case 'tenant.relink-requested':
    case 'tenant.integration-relinked':
      out.push({ field: 'relink', before: d.fromIntegrationId ?? null, after: d.toIntegrationId ?? null })
      if (typeof d.employeesRelinked === 'number') out.push({ field: 'employeesRelinked', before: null, after: d.employeesRelinked })
      break
    case 'tenant.offboarded':
      out.push(...added('erase', d.erase))
      break
    case 'tenant.personal-data-erased':
      out.push(...added('employeesErased', d.employees))
      break
    default:
      out.push(...listedChanges(d.changes), ...snapshotChanges(d.before, d.after))
  }
  if ((action === 'tenant.offboarded' || action === 'tenant.personal-data-erased') && typeof d.reason === 'string') out.push({ field: 'reason', before: null, after: d.reason })
  // What the store saw change (status, integration, failing reason), unless already said above.
  for (const c of listedChanges(d.stateChanges)) if (!out.some((o) => o.field === c.field)) out.push(c)
  return out
}

function causeOf(actor: string, action: string): TenantChangeEntry['cause'] {
  const kind = action === 'tenant.integration-relinked' || action === 'tenant.relink-failed' ? 'relink' : actor === 'tenants-file' ? 'config' : actor === 'kombo-webhook' ? 'webhook' : 'admin'
  return { kind, actor, action }
}

export function tenantChangeEntryOf(row: TenantAuditRow): TenantChangeEntry {
  const at = new Date(row.t).toISOString()
  return { userId: null, type: tenantEntryTypeOf(row.action), at, recordedAt: at, changes: changesOf(row.action, row.details), cause: causeOf(row.actor, row.action), eventId: `tenant-audit-${row.seq}` }
}

/** The trail as a source of the change log: on the same database as audit_changes (stores.db). */
export function tenantChangeSource(db: SqlQueryable): ChangeSource {
  return {
    // A user filter names something a tenant entry never has.
    serves: (query: ChangeQuery) => !query.userId && !query.field && (!query.type || (tenantChangeEntryTypes as readonly string[]).includes(query.type)),
    async list(tenant: string, query: ChangeQuery, after: ChangeKey | null, limit: number) {
      const params: unknown[] = [tenant]
      const where = ['tenant = $1']
      // A tenant entry's HR and recorded times are the same: both axes filter and order on `at`.
      if (query.from) where.push(`at >= $${params.push(query.from)}::timestamptz`)
      if (query.to) where.push(`at < $${params.push(query.to)}::timestamptz`)
      if (query.type === 'TenantSettingsChanged') where.push(`NOT (action = ANY($${params.push(knownActions)}::text[]))`)
      else if (query.type) where.push(`action = ANY($${params.push(actionsOf[query.type as keyof typeof actionsOf])}::text[])`)
      if (after) where.push(`(at, seq) > ($${params.push(after.t)}::timestamptz, $${params.push(after.p)}::bigint)`)
      const { rows } = await db.query<{ seq: string | number; t: string; actor: string; action: string; details: unknown }>(
        `SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t, actor, action, details FROM tenant_audit
         WHERE ${where.join(' AND ')} ORDER BY at, seq LIMIT $${params.push(limit)}`,
        params,
      )
      return rows.map((r) => {
        const details = typeof r.details === 'string' ? JSON.parse(r.details) : r.details
        const row = { seq: String(r.seq), t: r.t, actor: r.actor, action: r.action, details: isRecord(details) ? details : {} }
        return { entry: tenantChangeEntryOf(row), key: { t: row.t, p: row.seq } }
      })
    },
  }
}
