// At the poller's edge, before publishing: a record of a re-linked integration is renamed to the
// entity id our stream already has — its own id and every id it points at (manager, teams,
// location, legal entity, an absence's employee and type) — so a reconnect neither opens a second
// stream per person nor reads as "every manager and team changed". Records and references with no
// alias (new people, or a tenant never re-linked) pass unchanged.
import type { ChangeEnvelope } from '../../schemas/envelope.ts'
import type { KomboResource } from '../../schemas/kombo.ts'
import type { AliasMap } from './relink-store.ts'

/** Fields holding the Kombo id of another record, per resource, and that record's resource. */
const references: Record<KomboResource, ReadonlyArray<readonly [string, KomboResource]>> = {
  employees: [
    ['manager_id', 'employees'],
    ['work_location_id', 'work-locations'],
    ['legal_entity_id', 'legal-entities'],
  ],
  groups: [['parent_id', 'groups']],
  'work-locations': [],
  'legal-entities': [],
  'absence-types': [],
  absences: [
    ['employee_id', 'employees'],
    ['approver_id', 'employees'],
    ['type_id', 'absence-types'],
  ],
}

/** Expanded relations that carry the id of the record they expand (when not dropped at the edge). */
const embedded: Record<KomboResource, ReadonlyArray<readonly [string, KomboResource]>> = {
  employees: [
    ['manager', 'employees'],
    ['work_location', 'work-locations'],
    ['legal_entity', 'legal-entities'],
  ],
  groups: [],
  'work-locations': [],
  'legal-entities': [],
  'absence-types': [],
  absences: [['type', 'absence-types']],
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The record under the ids of our streams; the same object when nothing in it has an alias. */
export function aliasRecord(resource: KomboResource, record: ChangeEnvelope['record'], aliases: AliasMap): ChangeEnvelope['record'] {
  if (aliases.size === 0) return record
  const rename = (target: KomboResource, id: unknown) => (typeof id === 'string' ? aliases.get(target)?.get(id) : undefined)
  let out: Record<string, unknown> | null = null
  const set = (field: string, value: unknown) => {
    out ??= { ...record }
    out[field] = value
  }
  const own = rename(resource, record.id)
  if (own !== undefined) set('id', own)
  for (const [field, target] of references[resource]) {
    const to = rename(target, record[field])
    if (to !== undefined) set(field, to)
  }
  for (const [field, target] of embedded[resource]) {
    const value = record[field]
    const to = isObject(value) ? rename(target, value.id) : undefined
    if (to !== undefined) set(field, { ...(value as Record<string, unknown>), id: to })
  }
  if (resource === 'employees' && Array.isArray(record.groups)) {
    const groups = record.groups as unknown[]
    const renamed = groups.map((g) => {
      const to = isObject(g) ? rename('groups', g.id) : undefined
      return to === undefined ? g : { ...(g as Record<string, unknown>), id: to }
    })
    if (renamed.some((g, i) => g !== groups[i])) set('groups', renamed)
  }
  return (out ?? record) as ChangeEnvelope['record']
}

/**
 * `publish` with every envelope renamed by the tenant's aliases for the integration it polls. The
 * aliases are loaded once per poller (a re-link writes them before it switches the tenant to the
 * new integration, and the switch starts a new poller); a failed load fails the page, which the
 * poll then reads again.
 */
export function aliasingPublish(load: () => Promise<AliasMap>, publish: (envelopes: ChangeEnvelope[]) => Promise<void>): (envelopes: ChangeEnvelope[]) => Promise<void> {
  let aliases: Promise<AliasMap> | null = null
  return async (envelopes) => {
    aliases ??= load().catch((err: unknown) => {
      aliases = null
      throw err
    })
    const map = await aliases
    await publish(map.size === 0 ? envelopes : envelopes.map((e) => withRecord(e, aliasRecord(e.resource, e.record, map))))
  }
}

/** The envelope with another record (a spread keeps symbol-keyed extras such as a trace context). */
function withRecord(envelope: ChangeEnvelope, record: ChangeEnvelope['record']): ChangeEnvelope {
  return record === envelope.record ? envelope : { ...envelope, record }
}
