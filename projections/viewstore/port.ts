// The view store port: the Learn Amp views (users, teams, locations) per tenant, as the
// projections write them (ViewWriter) and the read API reads them (ViewReader). Adapter: sql.ts on
// the SqlDatabase interface (embedded PGlite or PostgreSQL). Every view method takes the tenant:
// no query spans tenants.
import type { LearnAmpUser, LearnAmpTeam, LearnAmpLocation, LearnAmpUserIssue } from '../../schemas/learnamp.ts'
import type { AbsenceTypeView, AbsenceView, HrRecordKind, LegalEntityView } from '../../schemas/hr-records.ts'
import { KomboSyncError } from '../../errors/kombo-sync-error.ts'
import type { SqlQueryable } from '../../sql/database.ts'

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

export type EntityCategory = 'employee' | 'team' | 'location' | 'legalEntity' | 'absenceType' | 'absence'

/** What a user row is indexed by: what its record points at, resolved or not. */
export interface UserIndex {
  teamIds: string[]
  locationId: string | null
  managerId: string | null
}

/** Row-level access a projection uses inside its batch's transaction. */
export interface ViewTransaction {
  /** The transaction itself, for projection steps with tables of their own (the audit change log). */
  readonly sql: SqlQueryable
  /** Each state with the instant its last event was decided for (null in rows written before that was kept). */
  loadStates(tenant: string, category: EntityCategory, ids: string[]): Promise<Map<string, { state: unknown; decidedAt: Date | null }>>
  /** Saves many states in few statements (one round trip per chunk, not per row). Ids must not repeat. */
  saveStates(tenant: string, rows: Array<{ category: EntityCategory; id: string; state: unknown; nextDueAt: Date | null; decidedAt: Date | null }>): Promise<void>
  /** Upserts many users in few statements. External ids must not repeat. */
  upsertUsers(tenant: string, rows: Array<{ user: LearnAmpUser; index: UserIndex }>): Promise<void>
  /** Upserts many teams in few statements. Ids must not repeat. */
  upsertTeams(tenant: string, teams: LearnAmpTeam[]): Promise<void>
  /** Upserts many locations in few statements. Ids must not repeat. */
  upsertLocations(tenant: string, locations: LearnAmpLocation[]): Promise<void>
  /** Legal entity, absence type and absence documents, indexed by employee and calendar days (absences). (kind, id) must not repeat. */
  upsertHrRecords(tenant: string, rows: Array<{ kind: HrRecordKind; doc: { externalId: string }; index: { employeeId: string | null; startOn: string | null; endOn: string | null } }>): Promise<void>
  /** External ids of users whose manager / team / location is one of the given ids. */
  usersReferencing(tenant: string, ref: { managerIds?: string[]; teamIds?: string[]; locationIds?: string[] }): Promise<string[]>
  /** Users with one of the (lower-cased) emails, but for those in `exceptIds`. */
  usersWithEmails(tenant: string, emailsLower: string[], exceptIds?: string[]): Promise<LearnAmpUser[]>
  /** The (lower-cased) emails the given users have in the view now. */
  emailsOf(tenant: string, externalIds: string[]): Promise<string[]>
  /** Replaces the documents of existing users (their index columns stay). */
  replaceUserDocs(tenant: string, users: LearnAmpUser[]): Promise<void>
  /**
   * Moves the checkpoint to `position`, compare-and-set: only when it still stands at `expected`
   * (null: no checkpoint yet), the position this runner last read or wrote. Otherwise another
   * writer moved it: throws CheckpointConflictError (and the transaction rolls back).
   */
  setCheckpoint(name: string, position: bigint, expected: bigint | null): Promise<void>
  /** Records an event the projection skipped because it kept failing alone (the checkpoint moves past it apart). */
  recordSkippedEvent(checkpoint: string, skipped: Omit<SkippedEvent, 'checkpoint' | 'at'>): Promise<void>
}

/** An event a projection could not apply however often it tried: skipped, kept here with the reason. */
export interface SkippedEvent {
  checkpoint: string
  position: bigint
  streamName: string
  eventId: string
  type: string
  reason: string
  at: Date
}

/** Held while a runner projects into a checkpoint; `release()` lets the next one in. */
export interface CheckpointLock {
  release(): Promise<void>
}

/** The write side: what the projector and the clock need. */
export interface ViewWriter {
  checkpoint(name: string): Promise<bigint | null>
  /** Every checkpoint's position by name (one small read: a deployment has a handful). */
  checkpoints(): Promise<Map<string, bigint>>
  /**
   * Takes the checkpoint's lock, so one runner at a time projects into it (a PostgreSQL advisory
   * lock held on a session of its own; one runner per process on the embedded database). Throws
   * CheckpointLockedError when another runner holds it.
   */
  lockCheckpoint(name: string): Promise<CheckpointLock>
  /** Runs `fn` in one transaction (views and checkpoint together). */
  transaction<T>(fn: (tx: ViewTransaction) => Promise<T>): Promise<T>
  /** Employees whose next lifecycle date is due at `now` (for the clock), across tenants. */
  dueEmployees(now: Date, limit: number): Promise<Array<{ tenant: string; id: string }>>
  /** The clock's snooze: when it found nothing due for an employee, the next date to look again. */
  setNextDueAt(tenant: string, id: string, at: Date | null): Promise<void>
  /** Deletes every view, state and the given checkpoint (before a rebuild). */
  reset(checkpointName: string): Promise<void>
  /**
   * A rebuild's bulk load: `suspendIndexes` drops the indexes no projection step reads (the change
   * log's), `restoreIndexes` builds them again once the rebuild has caught up. Opening the store
   * restores them too, so a rebuild interrupted in between leaves nothing missing after a restart.
   */
  suspendIndexes(): Promise<void>
  restoreIndexes(): Promise<void>
  counts(): Promise<{ users: number; teams: number; locations: number; states: number }>
  /** The events a projection skipped (the projection dead letters), oldest first. */
  skippedEvents(checkpoint: string): Promise<SkippedEvent[]>
}

export type ViewStore = ViewReader & ViewWriter

/** Another runner projects into this checkpoint on the same view database. Retrying helps once it stopped. */
export class CheckpointLockedError extends KomboSyncError {
  override name = 'CheckpointLockedError'
  readonly retriable = true
  constructor(readonly checkpoint: string) {
    super(
      `another projector holds checkpoint "${checkpoint}" on this view database: run one projector per view database ` +
        '(stop the other one, or give this one its own DATABASE_URL)',
    )
  }
}

/** The checkpoint moved under this runner (another writer): it stops rather than overwrite views. */
export class CheckpointConflictError extends KomboSyncError {
  override name = 'CheckpointConflictError'
  readonly retriable = false
  constructor(
    readonly checkpoint: string,
    readonly expected: bigint | null,
    readonly found: bigint | null,
  ) {
    super(`checkpoint "${checkpoint}" stands at ${found ?? 'none'}, not at ${expected ?? 'none'} as this projector last wrote: another writer moved it; stopping`)
  }
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
export class InvalidCursorError extends KomboSyncError {
  override name = 'InvalidCursorError'
  readonly retriable = false
}
