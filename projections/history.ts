// Audit reads straight from the event store: an employee's full history (raw events and readable
// changes), and their Learn Amp user, a team or a location on both time axes (see
// audit/bitemporal.ts) — with the manager, teams and location read on the same axes.
import type { EventStore } from '../processors/eventstore/port.ts'
import { evolveEmployee, type EmployeeState } from '../processors/domain/employee-state.ts'
import type { EntityState } from '../processors/domain/entity.ts'
import type { EmployeeEvent } from '../schemas/events.ts'
import type { LearnAmpLocation, LearnAmpTeam, LearnAmpUser } from '../schemas/learnamp.ts'
import type { ChangeEntry } from '../schemas/audit.ts'
import { employeeStreamName, streamName } from '../schemas/streams.ts'
import { toLearnAmpUser, toLearnAmpTeam, toLearnAmpLocation, entityRef } from './mapping/index.ts'
import { employeeAt, entityAt, type Provenance, type TimeAxes } from './audit/bitemporal.ts'
import { changeEntryOf } from './audit/change-entries.ts'
import type { PastRead, UserHistoryEntry } from '../api/ports.ts'

/** What the audit reads share: the event store and the tenants' HR time zones. */
interface HistoryContext {
  store: EventStore
  timeZoneOf: (tenant: string) => string
}

const entityOf = async (ctx: HistoryContext, category: 'team' | 'location', tenant: string, id: string, axes: TimeAxes) =>
  entityAt(await ctx.store.readStream(streamName(category, tenant, id)), axes)
const read = <T>(data: T, axes: TimeAxes, provenance: Provenance): PastRead<T> => ({
  found: true,
  value: { data, asOf: axes.asOf?.toISOString() ?? null, knownAt: axes.knownAt.toISOString(), ...provenance },
})
const unknown = (what: string, axes: TimeAxes) => ({
  found: false as const,
  message: `${what} was not known to kombo-sync at ${axes.knownAt.toISOString()}`,
})

/** An employee's raw events and the readable changes between them. */
async function userHistory(ctx: HistoryContext, tenant: string, externalId: string): Promise<{ events: UserHistoryEntry[]; changes: ChangeEntry[] } | null> {
  const events = await ctx.store.readStream(employeeStreamName(tenant, externalId))
  if (events.length === 0) return null
  const changes: ChangeEntry[] = []
  let state: EmployeeState | null = null
  for (const e of events) {
    const next = evolveEmployee(state, { type: e.type, data: e.data } as EmployeeEvent)
    const entry = changeEntryOf(e, state, next, ctx.timeZoneOf(tenant))
    if (entry) changes.push(entry)
    state = next
  }
  return {
    events: events.map((e) => ({
      revision: e.revision.toString(),
      position: e.position.toString(),
      type: e.type,
      recordedAt: e.recordedAt.toISOString(),
      data: e.data,
      metadata: e.metadata,
    })),
    changes,
  }
}

/** The Learn Amp user on both axes, with its manager, teams and location read on the same axes. */
async function userAt(ctx: HistoryContext, tenant: string, externalId: string, axes: TimeAxes): Promise<PastRead<LearnAmpUser>> {
  const { store, timeZoneOf } = ctx
  const found = employeeAt(await store.readStream(employeeStreamName(tenant, externalId)), axes, timeZoneOf(tenant))
  if (!found.found) {
    if (found.reason === 'before_hr_records') {
      return { found: false, message: `the HR records say nothing about user '${externalId}' before ${found.knownSince} (asOf ${axes.asOf?.toISOString()})` }
    }
    return unknown(`user '${externalId}'`, axes)
  }
  const { state, evaluatedAt, provenance } = found.value
  const employees = new Map<string, EmployeeState>([[externalId, state]])
  const teams = new Map<string, EntityState>()
  const locations = new Map<string, EntityState>()
  const managerId = state.record.manager_id
  if (typeof managerId === 'string') {
    const manager = employeeAt(await store.readStream(employeeStreamName(tenant, managerId)), axes, timeZoneOf(tenant))
    if (manager.found) employees.set(managerId, manager.value.state)
  }
  const groups = Array.isArray(state.record.groups) ? (state.record.groups as Array<{ id?: unknown }>) : []
  for (const g of groups) {
    if (typeof g.id !== 'string') continue
    const team = await entityOf(ctx, 'team', tenant, g.id, axes)
    if (team.found) teams.set(g.id, team.state)
  }
  const locationId = state.record.work_location_id
  if (typeof locationId === 'string') {
    const location = await entityOf(ctx, 'location', tenant, locationId, axes)
    if (location.found) locations.set(locationId, location.state)
  }
  const user = toLearnAmpUser(
    state,
    { employee: (id) => employees.get(id), team: (id) => entityRef(teams.get(id)), location: (id) => entityRef(locations.get(id)) },
    evaluatedAt,
    timeZoneOf(tenant),
  )
  return read(user, axes, provenance)
}

/** `timeZoneOf`: the tenant's HR time zone, so a status read of the past agrees with the views (default UTC). */
export function createUserHistory(store: EventStore, timeZoneOf: (tenant: string) => string = () => 'UTC') {
  const ctx: HistoryContext = { store, timeZoneOf }
  return {
    userHistory: (tenant: string, externalId: string) => userHistory(ctx, tenant, externalId),
    userAt: (tenant: string, externalId: string, axes: TimeAxes) => userAt(ctx, tenant, externalId, axes),
    async teamAt(tenant: string, id: string, axes: TimeAxes): Promise<PastRead<LearnAmpTeam>> {
      const found = await entityOf(ctx, 'team', tenant, id, axes)
      return found.found ? read(toLearnAmpTeam(found.state), axes, found.provenance) : unknown(`team '${id}'`, axes)
    },
    async locationAt(tenant: string, id: string, axes: TimeAxes): Promise<PastRead<LearnAmpLocation>> {
      const found = await entityOf(ctx, 'location', tenant, id, axes)
      return found.found ? read(toLearnAmpLocation(found.state), axes, found.provenance) : unknown(`location '${id}'`, axes)
    },
  }
}
export type UserHistory = ReturnType<typeof createUserHistory>
