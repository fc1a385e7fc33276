// Applies a batch of recorded events to the views inside one transaction: folds each entity's
// state forward, then recomputes the Learn Amp documents that depend on what changed — the
// employee's own user, the users who report to them (manager name), the members of a renamed team
// or location, and everyone sharing an email address (duplicate detection).
import { decidedAt, type RecordedEvent } from '../processors/eventstore/port.ts'
import type { EmployeeState } from '../processors/domain/employee-state.ts'
import type { EntityState } from '../processors/domain/entity.ts'
import { asDomainEvents } from '../processors/domain/decider.ts'
import { streamKindOf } from '../processors/domain/stream-kinds.ts'
import { parseStreamName, type StreamCategory } from '../schemas/streams.ts'
import type { LearnAmpLocation, LearnAmpTeam, LearnAmpUser } from '../schemas/learnamp.ts'
import { toLearnAmpUser, toLearnAmpTeam, toLearnAmpLocation, entityRef, findDuplicateEmails } from './mapping/index.ts'
import { shownAsManager } from './mapping/learnamp-user.ts'
import { nextDueAt } from '../processors/domain/next-due.ts'
import { toAbsenceTypeView, toAbsenceView, toLegalEntityView } from './mapping/hr-records.ts'
import type { UserIndex, ViewTransaction } from './viewstore/sql.ts'
import type { DeferUsers, UsersToRecompute } from './deferred-users.ts'

const DUE_MARGIN_MS = 5 * 60 * 1000

type Key = string // `${tenant}\u0000${category}\u0000${id}`
const keyOf = (tenant: string, category: StreamCategory, id: string): Key => `${tenant}\u0000${category}\u0000${id}`

/** States loaded or changed in this batch, so each is read once and written once. */
class BatchStates {
  readonly states = new Map<Key, unknown>()
  readonly changed = new Set<Key>()
  /** When each state's last event was decided for: loaded with it, then moved by this batch's events. */
  readonly decidedAt = new Map<Key, Date>()
  /** Each state as loaded, before this batch's events (null: none stored). */
  readonly loaded = new Map<Key, unknown>()
  constructor(private readonly tx: ViewTransaction) {}

  async load(tenant: string, category: StreamCategory, ids: string[]): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.states.has(keyOf(tenant, category, id)))
    if (missing.length === 0) return
    const found = await this.tx.loadStates(tenant, category, missing)
    for (const id of missing) {
      const row = found.get(id)
      this.states.set(keyOf(tenant, category, id), row?.state ?? null)
      this.loaded.set(keyOf(tenant, category, id), row?.state ?? null)
      if (row?.decidedAt) this.decidedAt.set(keyOf(tenant, category, id), row.decidedAt)
    }
  }
  get<T>(tenant: string, category: StreamCategory, id: string): T | null {
    return (this.states.get(keyOf(tenant, category, id)) as T | undefined) ?? null
  }
  set(tenant: string, category: StreamCategory, id: string, state: unknown): void {
    const key = keyOf(tenant, category, id)
    this.states.set(key, state)
    this.changed.add(key)
  }
  /** Drops the states only read (not changed) by this batch: they are read again if needed. */
  forgetUnchanged(): void {
    for (const key of this.states.keys()) {
      if (this.changed.has(key)) continue
      this.states.delete(key)
      this.decidedAt.delete(key)
      this.loaded.delete(key)
    }
  }
}

/**
 * Users recomputed (with their managers', teams' and locations' states) at once. A renamed team
 * or location recomputes every user who references it, which can be most of a company: in
 * chunks, with the states only read for a chunk dropped after it, a batch holds at most this
 * many users' states whatever the company's size. Each chunk fixes the duplicate-email flags of
 * its users' sharers, as a later batch would.
 */
export const USERS_PER_RECOMPUTE = 500

/** Sees every event of a batch with its entity's state before and after it, then writes once. */
export interface FoldObserver {
  observe(tenant: string, category: StreamCategory, event: RecordedEvent, before: unknown, after: unknown): void
  write(tx: ViewTransaction): Promise<void>
}

/** What the views need to know about tenants: the zone their HR dates are calendar days in. */
export interface ProjectionSettings {
  timeZoneOf(tenant: string): string
}
/** For tests and tools without tenant settings: every tenant in UTC. */
export const utcEverywhere: ProjectionSettings = { timeZoneOf: () => 'UTC' }

type ParsedEvent = { event: RecordedEvent; stream: NonNullable<ReturnType<typeof parseStreamName>> }
/** What the steps of one batch share: its transaction, tenant settings and the batch's states. */
interface BatchContext {
  tx: ViewTransaction
  settings: ProjectionSettings
  batch: BatchStates
}
type StateRow = Parameters<ViewTransaction['saveStates']>[1][number]
type References = { managerIds: string[]; teamIds: string[]; locationIds: string[] }

type HrRecordRow = Parameters<ViewTransaction['upsertHrRecords']>[1][number]

/**
 * Per tenant, what the changed states touch: the documents computed from one state alone (written
 * one statement per table per batch), users to recompute and ids other users may reference.
 */
class BatchWrites {
  readonly users = new Map<string, Set<string>>() // tenant -> employee ids
  readonly refs = new Map<string, References>()
  readonly teams = new Map<string, LearnAmpTeam[]>()
  readonly locations = new Map<string, LearnAmpLocation[]>()
  readonly hrRecords = new Map<string, HrRecordRow[]>()
  addUser(tenant: string, id: string): void {
    const set = this.users.get(tenant) ?? new Set<string>()
    set.add(id)
    this.users.set(tenant, set)
  }
  refOf(tenant: string): References {
    const r = this.refs.get(tenant) ?? { managerIds: [], teamIds: [], locationIds: [] }
    this.refs.set(tenant, r)
    return r
  }
  async write(tx: ViewTransaction): Promise<void> {
    // Keys in `batch.changed` are unique, so no document repeats within a tenant's multi-row upsert.
    for (const [tenant, teams] of this.teams) await tx.upsertTeams(tenant, teams)
    for (const [tenant, locations] of this.locations) await tx.upsertLocations(tenant, locations)
    for (const [tenant, rows] of this.hrRecords) await tx.upsertHrRecords(tenant, rows)
  }
}
const push = <T>(map: Map<string, T[]>, tenant: string, value: T) => {
  const list = map.get(tenant)
  if (list) list.push(value)
  else map.set(tenant, [value])
}

/**
 * `observers` see each event with its state before and after (the audit change log is one).
 * `deferUsers` (a rebuild: see deferred-users.ts): the users this batch would recompute are
 * recorded there instead, for `recomputeDeferredUsers` in the batch that settles.
 */
export async function applyEvents(
  tx: ViewTransaction,
  events: RecordedEvent[],
  settings: ProjectionSettings = utcEverywhere,
  observers: FoldObserver[] = [],
  usersPerRecompute = USERS_PER_RECOMPUTE,
  deferUsers?: DeferUsers,
): Promise<{ applied: number }> {
  const ctx: BatchContext = { tx, settings, batch: new BatchStates(tx) }
  const parsed: ParsedEvent[] = []
  for (const event of events) {
    const stream = parseStreamName(event.streamName)
    if (stream) parsed.push({ event, stream })
  }
  await loadTouchedStates(ctx.batch, parsed)
  const applied = foldForward(ctx.batch, parsed, observers)
  for (const observer of observers) await observer.write(tx)
  const writes = await persistStates(ctx)
  if (deferUsers) {
    for (const tenant of new Set([...writes.users.keys(), ...writes.refs.keys()])) {
      const ref = writes.refs.get(tenant)
      deferUsers(tenant, { employeeIds: writes.users.get(tenant) ?? [], managerIds: ref?.managerIds ?? [], teamIds: ref?.teamIds ?? [], locationIds: ref?.locationIds ?? [] })
    }
    return { applied }
  }
  for (const tenant of new Set([...writes.users.keys(), ...writes.refs.keys()])) {
    await recomputeReferencingUsers(ctx, tenant, writes.users.get(tenant) ?? new Set(), writes.refs.get(tenant), usersPerRecompute)
  }
  return { applied }
}

/**
 * The users deferred by a rebuild's batches (deferred-users.ts), recomputed at once in the batch
 * that settles: the recorded employees and every user referencing a recorded manager, team or
 * location, as each batch would have done. `tx` reads the carried states.
 */
export async function recomputeDeferredUsers(
  tx: ViewTransaction,
  users: Map<string, UsersToRecompute>,
  settings: ProjectionSettings = utcEverywhere,
  usersPerRecompute = USERS_PER_RECOMPUTE,
): Promise<void> {
  const ctx: BatchContext = { tx, settings, batch: new BatchStates(tx) }
  for (const [tenant, u] of users) {
    const ref = { managerIds: [...u.managerIds], teamIds: [...u.teamIds], locationIds: [...u.locationIds] }
    await recomputeReferencingUsers(ctx, tenant, new Set(u.employeeIds), ref, usersPerRecompute)
  }
}

/** `ids` and the users referencing `ref`, recomputed in chunks of `usersPerRecompute`. */
async function recomputeReferencingUsers(ctx: BatchContext, tenant: string, ids: Set<string>, ref: References | undefined, usersPerRecompute: number): Promise<void> {
  if (ref) for (const id of await ctx.tx.usersReferencing(tenant, ref)) ids.add(id)
  const all = [...ids]
  for (let i = 0; i < all.length; i += usersPerRecompute) {
    await recomputeUsers(ctx, tenant, all.slice(i, i + usersPerRecompute))
    ctx.batch.forgetUnchanged()
  }
}

/** 1. Load every state the batch touches, grouped so each kind is one query per tenant. */
async function loadTouchedStates(batch: BatchStates, parsed: ParsedEvent[]): Promise<void> {
  const wanted = new Map<string, { tenant: string; category: StreamCategory; ids: string[] }>()
  for (const { stream } of parsed) {
    const k = `${stream.tenant}\u0000${stream.category}`
    const entry = wanted.get(k) ?? { tenant: stream.tenant, category: stream.category, ids: [] }
    entry.ids.push(stream.komboId)
    wanted.set(k, entry)
  }
  for (const w of wanted.values()) await batch.load(w.tenant, w.category, w.ids)
}

/**
 * 2. Fold forward. A document is always computed as of its entity's last decided event, whichever
 * change recomputes it (its own event, or its manager's, team's or location's), so it does not
 * depend on which events happened to share a batch.
 */
function foldForward(batch: BatchStates, parsed: ParsedEvent[], observers: FoldObserver[]): number {
  let applied = 0
  for (const { event, stream } of parsed) {
    const { tenant, category, komboId } = stream
    const [domainEvent] = asDomainEvents([event])
    const before = batch.get<unknown>(tenant, category, komboId)
    const next = streamKindOf(category).evolve(before, domainEvent)
    for (const observer of observers) observer.observe(tenant, category, event, before, next)
    batch.set(tenant, category, komboId, next)
    batch.decidedAt.set(keyOf(tenant, category, komboId), decidedAt(event))
    applied++
  }
  return applied
}

/** 3. Persist states and the views computed from one state alone; collect which users to recompute. */
async function persistStates(ctx: BatchContext): Promise<BatchWrites> {
  const { batch, settings } = ctx
  const writes = new BatchWrites()
  const statesToSave = new Map<string, StateRow[]>() // tenant -> rows
  for (const key of batch.changed) {
    const [tenant, category, id] = key.split('\u0000') as [string, StreamCategory, string]
    const state = batch.states.get(key)
    if (state === null || state === undefined) continue
    const at = batch.decidedAt.get(key) ?? new Date()
    // Look again a little before the event's time: a date reached between the decision and the
    // append is then still seen by the clock (which decides idempotently).
    const dueAfter = new Date(at.getTime() - DUE_MARGIN_MS)
    const rows = statesToSave.get(tenant) ?? []
    rows.push({ category, id, state, nextDueAt: category === 'employee' ? nextDueAt(state as EmployeeState, dueAfter, settings.timeZoneOf(tenant)) : null, decidedAt: batch.decidedAt.get(key) ?? null })
    statesToSave.set(tenant, rows)
    writeEntityView(writes, tenant, category, id, state, batch.loaded.get(key) ?? null)
  }
  await writes.write(ctx.tx)
  // Keys in `batch.changed` are unique, so no row repeats within a tenant's multi-row upsert.
  for (const [tenant, rows] of statesToSave) await ctx.tx.saveStates(tenant, rows)
  return writes
}

/** What each kind's new state changes in the Learn Amp views: decided for every kind. */
function writeEntityView(writes: BatchWrites, tenant: string, category: StreamCategory, id: string, state: unknown, before: unknown): void {
  switch (category) {
    case 'employee':
      writes.addUser(tenant, id)
      // Her reports' documents show only `shownAsManager` of her: a change of anything else (a job
      // title, her own manager) leaves them as they are, so they are not recomputed and written again.
      if (!sameShownAsManager(before as EmployeeState | null, state as EmployeeState)) writes.refOf(tenant).managerIds.push(id)
      break
    case 'team':
      push(writes.teams, tenant, toLearnAmpTeam(state as EntityState))
      writes.refOf(tenant).teamIds.push(id)
      break
    case 'location':
      push(writes.locations, tenant, toLearnAmpLocation(state as EntityState))
      writes.refOf(tenant).locationIds.push(id)
      break
    case 'legalEntity':
      push(writes.hrRecords, tenant, { kind: 'legalEntity', doc: toLegalEntityView(state as EntityState), index: noIndex })
      break
    case 'absenceType':
      push(writes.hrRecords, tenant, { kind: 'absenceType', doc: toAbsenceTypeView(state as EntityState), index: noIndex })
      break
    case 'absence': {
      const absence = toAbsenceView(state as EntityState)
      push(writes.hrRecords, tenant, { kind: 'absence', doc: absence, index: { employeeId: absence.employeeId, startOn: calendarDay(absence.startDate), endOn: calendarDay(absence.endDate) } })
      break
    }
    default:
      unhandledCategory(category)
  }
}

/** 4. Recompute a tenant's users with their lookups (teams, locations, managers), then flag shared emails. */
async function recomputeUsers(ctx: BatchContext, tenant: string, employeeIds: string[]): Promise<void> {
  const { tx, batch, settings } = ctx
  await batch.load(tenant, 'employee', employeeIds)
  const employees = employeeIds.map((id) => batch.get<EmployeeState>(tenant, 'employee', id)).filter((s): s is EmployeeState => s !== null)
  await batch.load(tenant, 'employee', employees.map((s) => s.record.manager_id).filter((m): m is string => typeof m === 'string'))
  await batch.load(tenant, 'team', employees.flatMap((s) => groupIdsOf(s)))
  await batch.load(tenant, 'location', employees.map((s) => s.record.work_location_id).filter((l): l is string => typeof l === 'string'))
  const lookups = {
    employee: (id: string) => batch.get<EmployeeState>(tenant, 'employee', id) ?? undefined,
    team: (id: string) => entityRef(batch.get<EntityState>(tenant, 'team', id)),
    location: (id: string) => entityRef(batch.get<EntityState>(tenant, 'location', id)),
  }
  const emails = new Set<string>()
  const computed: LearnAmpUser[] = []
  for (const state of employees) {
    const at = batch.decidedAt.get(keyOf(tenant, 'employee', state.employeeId)) ?? new Date(state.changedAt)
    const user = toLearnAmpUser(state, lookups, at, settings.timeZoneOf(tenant))
    computed.push(user)
    if (user.email) emails.add(user.email.toLowerCase())
  }
  // Addresses these users had before this batch: their former sharers may no longer be duplicates.
  for (const email of await tx.emailsOf(tenant, employeeIds)) emails.add(email)
  // Duplicate-email flags depend on the other users with the same address: flag before writing,
  // so each user is written once, and only the others whose flag changes are written again.
  const others = await tx.usersWithEmails(tenant, [...emails], employeeIds)
  const sharing = [...computed.filter((u) => u.email), ...others]
  const flags = new Map(findDuplicateEmails(sharing).map((u) => [u.externalId, u]))
  // Indexed by what the record points at, resolved or not: a team or location that arrives
  // later must still find the users that reference it. `ids` is a set: no user repeats.
  await tx.upsertUsers(
    tenant,
    computed.map((user, i) => ({ user: flags.get(user.externalId) ?? user, index: userIndexOf(employees[i]) })),
  )
  await tx.replaceUserDocs(tenant, others.map((u) => flags.get(u.externalId)!).filter((u, i) => u !== others[i]))
}

function userIndexOf(state: EmployeeState): UserIndex {
  const record = state.record
  return {
    teamIds: groupIdsOf(state),
    locationId: typeof record.work_location_id === 'string' ? record.work_location_id : null,
    managerId: typeof record.manager_id === 'string' ? record.manager_id : null,
  }
}

/** Whether her reports' documents show the same of her as a manager in both states. */
function sameShownAsManager(before: EmployeeState | null, after: EmployeeState): boolean {
  const a = shownAsManager(before)
  const b = shownAsManager(after)
  return a === null || b === null ? a === b : a.displayName === b.displayName
}

/** Fails to compile when a stream category has no case above. */
function unhandledCategory(category: never): never {
  throw new TypeError(`no view handling for stream category ${String(category)}`)
}

const noIndex = { employeeId: null, startOn: null, endOn: null }
/** An absence's day as `YYYY-MM-DD` (the date part as Kombo wrote it), for range filters. */
const calendarDay = (date: string | null): string | null => (date && /^\d{4}-\d{2}-\d{2}/.test(date) ? date.slice(0, 10) : null)

function groupIdsOf(state: EmployeeState): string[] {
  const groups = state.record.groups
  if (!Array.isArray(groups)) return []
  return groups.map((g) => (g as { id?: unknown }).id).filter((id): id is string => typeof id === 'string')
}
