// Audit reads straight from the event store: an employee's full history, and their Learn Amp user
// as it was known at an instant (events recorded up to then, with the manager, teams and location
// also as they were then).
import { decidedAt, type EventStore, type RecordedEvent } from '../processors/eventstore/port.ts'
import type { EmployeeState } from '../processors/domain/employee-state.ts'
import type { EntityState } from '../processors/domain/entity.ts'
import { foldEvents } from '../processors/domain/decider.ts'
import { streamDeciders } from '../processors/domain/stream-kinds.ts'
import type { LearnAmpUser } from '../schemas/learnamp.ts'
import { employeeStreamName, streamName } from '../schemas/streams.ts'
import { toLearnAmpUser, entityRef } from './mapping/index.ts'
import type { UserHistoryEntry } from '../api/ports.ts'


/** `timeZoneOf`: the tenant's HR time zone, so an as-of status agrees with the views (default UTC). */
export function createUserHistory(store: EventStore, timeZoneOf: (tenant: string) => string = () => 'UTC') {
  const readUpTo = async (stream: string, asOf: Date): Promise<RecordedEvent[]> =>
    (await store.readStream(stream)).filter((e) => decidedAt(e).getTime() <= asOf.getTime())

  return {
    async userHistory(tenant: string, externalId: string): Promise<UserHistoryEntry[] | null> {
      const events = await store.readStream(employeeStreamName(tenant, externalId))
      if (events.length === 0) return null
      return events.map((e) => ({
        revision: e.revision.toString(),
        position: e.position.toString(),
        type: e.type,
        recordedAt: e.recordedAt.toISOString(),
        data: e.data,
        metadata: e.metadata,
      }))
    },

    async userAsOf(tenant: string, externalId: string, asOf: Date): Promise<LearnAmpUser | null> {
      const state = foldEvents(streamDeciders.employee, await readUpTo(employeeStreamName(tenant, externalId), asOf))
      if (!state) return null
      const employees = new Map<string, EmployeeState>([[externalId, state]])
      const teams = new Map<string, EntityState>()
      const locations = new Map<string, EntityState>()
      const managerId = state.record.manager_id
      if (typeof managerId === 'string') {
        const manager = foldEvents(streamDeciders.employee, await readUpTo(employeeStreamName(tenant, managerId), asOf))
        if (manager) employees.set(managerId, manager)
      }
      const groups = Array.isArray(state.record.groups) ? (state.record.groups as Array<{ id?: unknown }>) : []
      for (const g of groups) {
        if (typeof g.id !== 'string') continue
        const team = foldEvents(streamDeciders.team, await readUpTo(streamName('team', tenant, g.id), asOf))
        if (team) teams.set(g.id, team)
      }
      const locationId = state.record.work_location_id
      if (typeof locationId === 'string') {
        const location = foldEvents(streamDeciders.location, await readUpTo(streamName('location', tenant, locationId), asOf))
        if (location) locations.set(locationId, location)
      }
      return toLearnAmpUser(state, { employee: (id) => employees.get(id), team: (id) => entityRef(teams.get(id)), location: (id) => entityRef(locations.get(id)) }, asOf, timeZoneOf(tenant))
    },
  }
}
export type UserHistory = ReturnType<typeof createUserHistory>
