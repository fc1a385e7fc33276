// Teams (Kombo groups) and locations (Kombo work locations) as Learn Amp sees them.
import type { EntityState } from '../../processors/domain/index.ts'
import type { LearnAmpLocation, LearnAmpTeam } from '../../schemas/learnamp.ts'
import type { ResolvedRef } from './learnamp-user.ts'

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)
const groupTypes = new Set(['DEPARTMENT', 'TEAM', 'COST_CENTER'])

export function toLearnAmpTeam(state: EntityState): LearnAmpTeam {
  const r = state.record
  return {
    externalId: state.entityId,
    remoteId: str(r.remote_id),
    name: str(r.name),
    type: groupTypes.has(r.type as string) ? (r.type as LearnAmpTeam['type']) : null,
    parentId: str(r.parent_id),
    deleted: state.deleted,
  }
}

export function toLearnAmpLocation(state: EntityState): LearnAmpLocation {
  const r = state.record
  const a = r.address && typeof r.address === 'object' ? (r.address as Record<string, unknown>) : null
  return {
    externalId: state.entityId,
    remoteId: str(r.remote_id),
    name: str(r.name),
    type: str(r.type),
    address: a && {
      street1: str(a.street_1),
      street2: str(a.street_2),
      city: str(a.city),
      state: str(a.state),
      zipCode: str(a.zip_code),
      country: str(a.country),
      raw: str(a.raw),
    },
    deleted: state.deleted,
  }
}

/** A team or location state as the user mapping resolves it. */
export function entityRef(state: EntityState | null | undefined): ResolvedRef | undefined {
  if (!state) return undefined
  const name = state.record.name
  return { id: state.entityId, name: typeof name === 'string' ? name : null, deleted: state.deleted }
}
