// Teams, locations, legal entities, absence types and absences: records that change as a whole.
// One decide/evolve for all of them, parameterised by the event prefix of their vocabulary.
import type { EntityEvent, RecordSnapshot } from '../../schemas/events.ts'
import { streamCategoryList, streamKinds, streamName, type StreamCategory } from '../../schemas/streams.ts'
import type { Decider, ObserveRecord } from './decider.ts'
import { eventId } from './event-ids.ts'
import { changedFields, isBefore, isPurgedRecord } from './record-diff.ts'

/** The categories of whole-record entities: every stream kind but the employee. */
export type EntityCategory = Exclude<StreamCategory, 'employee'>
export type EntityPrefix = (typeof streamKinds)[EntityCategory]['eventPrefix']
const entityCategories = streamCategoryList.filter((c): c is EntityCategory => c !== 'employee')

export const entityPrefixes: readonly EntityPrefix[] = entityCategories.map((c) => streamKinds[c].eventPrefix)

/** The stream category each vocabulary is stored under (schemas/streams.ts). */
export const entityStreamCategory = Object.fromEntries(entityCategories.map((c) => [streamKinds[c].eventPrefix, c])) as Record<EntityPrefix, EntityCategory>

export interface EntityState {
  tenant: string
  entityId: string
  record: RecordSnapshot
  changedAt: string
  deleted: boolean
  /** Kombo nulled the deleted record's fields; `record` keeps the last known values. */
  purged?: boolean
}

/** A generic entity event (`TeamImported`, `LocationChanged`, …). */
export interface EntityEventOf {
  type: string
  data: { tenant: string; entityId: string; changedAt: string; [field: string]: unknown }
}
export type DecidedEntityEvent = EntityEvent & { id: string }

/** The kind of an entity event with its prefix removed, or null when it is not of this prefix. */
function kindOf(prefix: EntityPrefix, type: string): string | null {
  if (!type.startsWith(prefix)) return null
  const kind = type.slice(prefix.length)
  return ['Imported', 'Changed', 'DeletedInSource', 'RestoredInSource', 'PurgedInSource'].includes(kind) ? kind : null
}

const notChanges = new Set(['id', 'changed_at', 'remote_deleted_at'])

export function evolveEntity(state: EntityState | null, event: EntityEventOf | EntityEvent): EntityState | null {
  // 'AbsenceTypeX' never matches 'Absence' because 'TypeX' is not a kind.
  const prefix = entityPrefixes.find((p) => kindOf(p, event.type) !== null)
  const kind = prefix ? kindOf(prefix, event.type) : null
  const data = event.data as EntityEventOf['data']
  if (kind === 'Imported') {
    const snapshot = data.snapshot as RecordSnapshot
    return { tenant: data.tenant, entityId: data.entityId, record: { ...snapshot }, changedAt: data.changedAt, deleted: Boolean(snapshot.remote_deleted_at) }
  }
  if (state === null || kind === null) return state
  const latest = isBefore(state.changedAt, data.changedAt) ? data.changedAt : state.changedAt
  const apply = (fields: Record<string, unknown>, deleted = state.deleted): EntityState => ({
    ...state,
    changedAt: latest,
    deleted,
    record: { ...state.record, ...fields, changed_at: latest },
  })
  if (kind === 'Changed') return apply(data.changes as Record<string, unknown>)
  if (kind === 'DeletedInSource') return apply({ remote_deleted_at: data.remote_deleted_at }, true)
  if (kind === 'PurgedInSource') return { ...apply({}), purged: true }
  return { ...apply({ remote_deleted_at: null }, false), purged: false }
}

export function foldEntity(events: Iterable<EntityEventOf | EntityEvent>): EntityState | null {
  let state: EntityState | null = null
  for (const event of events) state = evolveEntity(state, event)
  return state
}

/** Events a Kombo record of this kind adds: nothing when older or identical, the import on first sight. */
export function decideEntityEvents(
  prefix: EntityPrefix,
  state: EntityState | null,
  record: { id: string; changed_at: string; [field: string]: unknown },
  ctx: { tenant: string },
): DecidedEntityEvent[] {
  const base = { tenant: ctx.tenant, entityId: record.id, changedAt: record.changed_at }
  const events: EntityEventOf[] = []
  if (state === null) {
    events.push({ type: `${prefix}Imported`, data: { ...base, snapshot: { ...record } } })
  } else if (!isBefore(record.changed_at, state.changedAt) && isPurgedRecord(record)) {
    // Kombo nulled the deleted record's fields: keep what we knew, record the purge once.
    const deletion = { ...base, remote_deleted_at: String(record.remote_deleted_at) }
    if (!state.record.remote_deleted_at) events.push({ type: `${prefix}DeletedInSource`, data: deletion })
    if (!state.purged) events.push({ type: `${prefix}PurgedInSource`, data: deletion })
  } else if (!isBefore(record.changed_at, state.changedAt)) {
    const wasDeleted = Boolean(state.record.remote_deleted_at)
    const isDeleted = Boolean(record.remote_deleted_at)
    if (wasDeleted && !isDeleted) events.push({ type: `${prefix}RestoredInSource`, data: base })
    const changes = changedFields(state.record, record, notChanges)
    if (wasDeleted && isDeleted && state.record.remote_deleted_at !== record.remote_deleted_at) {
      changes.remote_deleted_at = record.remote_deleted_at
    }
    if (Object.keys(changes).length > 0) events.push({ type: `${prefix}Changed`, data: { ...base, changes } })
    if (!wasDeleted && isDeleted) {
      events.push({ type: `${prefix}DeletedInSource`, data: { ...base, remote_deleted_at: String(record.remote_deleted_at) } })
    }
  }
  const stream = streamName(entityStreamCategory[prefix], ctx.tenant, record.id)
  return events.map((e) => ({ ...e, id: eventId(ctx.tenant, stream, record.changed_at, e.type) }) as DecidedEntityEvent)
}

/** Entities know one command: a Kombo record of theirs arrived. */
export type EntityCommand = ObserveRecord

/** The decider of one whole-record vocabulary (`Team…`, `Location…` …). */
export function entityDecider(prefix: EntityPrefix): Decider<EntityState | null, EntityCommand, EntityEvent> {
  return {
    decide: (command, state) => decideEntityEvents(prefix, state, command.record, command.context),
    evolve: (state, event) => evolveEntity(state, event),
    initialState: () => null,
  }
}
