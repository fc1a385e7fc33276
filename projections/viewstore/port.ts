// The view store port: the Learn Amp views (users, teams, locations) per tenant, as the
// projections write them and the read API reads them. Adapter: sql.ts on the SqlDatabase
// interface (embedded PGlite or PostgreSQL). Every method takes the tenant: no query spans tenants.
import type { LearnAmpUser, LearnAmpTeam, LearnAmpLocation, LearnAmpUserIssue } from '../../schemas/learnamp.ts'
import type { AbsenceTypeView, AbsenceView, HrRecordKind, LegalEntityView } from '../../schemas/hr-records.ts'

export type UserStatus = 'pending' | 'active' | 'deactivated'

export interface Page<T> {
  data: T[]
  /** Opaque cursor for the next page, null on the last page. */
  next: string | null
}

export interface UserQuery {
  status?: UserStatus
  team?: string
  location?: string
  /** Case-insensitive text match on name, email, job title. */
  q?: string
  /** Only users reporting this data problem. */
  issue?: LearnAmpUserIssue
  limit: number
  cursor?: string
}

export interface TeamWithMembers extends LearnAmpTeam {
  members: Array<Pick<LearnAmpUser, 'externalId' | 'displayName' | 'status'>>
}

export interface ViewReader {
  listUsers(tenant: string, query: UserQuery): Promise<Page<LearnAmpUser>>
  getUser(tenant: string, externalId: string): Promise<LearnAmpUser | null>
  listTeams(tenant: string, page: { limit: number; cursor?: string }): Promise<Page<LearnAmpTeam>>
  getTeam(tenant: string, id: string): Promise<TeamWithMembers | null>
  listLocations(tenant: string, page: { limit: number; cursor?: string }): Promise<Page<LearnAmpLocation>>
  getLocation(tenant: string, id: string): Promise<LearnAmpLocation | null>
}

/**
 * Per tenant, a number every committed write to that tenant's views increases (in the writing
 * transaction), so a reader can tell that what it cached may have changed. A tenant never written
 * has generation 0.
 */
export interface ViewGenerations {
  generations(): Promise<Map<string, bigint>>
  /** Called after each write transaction this store object commits; returns the unsubscribe. */
  onCommit?(listener: () => void): () => void
}

export interface HrRecordDocs {
  legalEntity: LegalEntityView
  absenceType: AbsenceTypeView
  absence: AbsenceView
}

export interface HrRecordQuery {
  limit: number
  cursor?: string
  /** Absences only: of this employee. */
  employee?: string
  /** Absences only: overlapping the calendar days from … to (inclusive, `YYYY-MM-DD`). */
  from?: string
  to?: string
}

/** Legal entities, absence types and absences (read-only, per tenant), ordered by id. */
export interface HrRecordReader {
  listHrRecords<K extends HrRecordKind>(tenant: string, kind: K, query: HrRecordQuery): Promise<Page<HrRecordDocs[K]>>
  getHrRecord<K extends HrRecordKind>(tenant: string, kind: K, id: string): Promise<HrRecordDocs[K] | null>
}

/** A cursor value was not produced by us (or is from another query). */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError'
  readonly retriable = false
}
