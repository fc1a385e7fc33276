// The Learn Amp views on SQL (embedded PGlite or PostgreSQL): users, teams, locations, the folded
// entity states they are computed from, and projection checkpoints — all written in one
// transaction per batch, so a view never runs ahead of or behind its checkpoint.
import type { SqlDatabase, SqlQueryable } from '../../sql/database.ts'
import type { LearnAmpLocation, LearnAmpTeam, LearnAmpUser } from '../../schemas/learnamp.ts'
import { isStorableText } from '../../schemas/storable-text.ts'
import {
  CheckpointConflictError,
  InvalidCursorError,
  type HrRecordReader,
  type Page,
  type TeamWithMembers,
  type UserQuery,
  type ViewGenerations,
  type SkippedEvent,
  type ViewStore,
  type ViewTransaction,
} from './port.ts'
import { checkpointLocks } from './checkpoint-lock.ts'

export type { EntityCategory, UserIndex, ViewTransaction } from './port.ts'

// A per-tenant generation that every write to a served view bumps, in the writing transaction (a
// statement trigger, so the projector, erasure, reset and rebuild need not remember it): API
// processes cache serialised answers stamped with it and re-read it often (api/view-cache.ts), so
// a change committed by any process invalidates every replica's cache. One statement per write
// statement, whatever its row count.
const generationTriggers = ['view_users', 'view_teams', 'view_locations'].flatMap((table) =>
  (['INSERT', 'UPDATE', 'DELETE'] as const).map(
    (event) => `CREATE OR REPLACE TRIGGER ${table}_generation_${event.toLowerCase()} AFTER ${event} ON ${table}
  REFERENCING ${event === 'DELETE' ? 'OLD' : 'NEW'} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_view_generation();`,
  ),
)
const generationsMigration = `
CREATE TABLE IF NOT EXISTS view_generations (tenant text PRIMARY KEY, generation bigint NOT NULL);
CREATE OR REPLACE FUNCTION bump_view_generation() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO view_generations (tenant, generation) SELECT DISTINCT tenant, 1 FROM changed
  ON CONFLICT (tenant) DO UPDATE SET generation = view_generations.generation + 1;
  RETURN NULL;
END $fn$;
${generationTriggers.join('\n')}
`
import type { HrRecordKind } from '../../schemas/hr-records.ts'
import { dropChangeLogIndexes, migrateChangeLog } from '../audit/change-log-store.ts'

const migration = `
CREATE TABLE IF NOT EXISTS projection_checkpoints (
  name text PRIMARY KEY, position bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS projection_dead_letters (
  checkpoint text NOT NULL, position bigint NOT NULL, stream_name text NOT NULL, event_id text NOT NULL,
  type text NOT NULL, reason text NOT NULL, at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (checkpoint, position));
CREATE TABLE IF NOT EXISTS view_entity_states (
  tenant text NOT NULL, category text NOT NULL, id text NOT NULL, state jsonb NOT NULL,
  next_due_at timestamptz, PRIMARY KEY (tenant, category, id));
CREATE INDEX IF NOT EXISTS view_entity_states_due ON view_entity_states (next_due_at) WHERE next_due_at IS NOT NULL;
ALTER TABLE view_entity_states ADD COLUMN IF NOT EXISTS decided_at timestamptz;
CREATE TABLE IF NOT EXISTS view_users (
  tenant text NOT NULL, external_id text NOT NULL, doc jsonb NOT NULL, status text NOT NULL,
  team_ids text[] NOT NULL DEFAULT '{}', location_id text, manager_id text, email_lower text,
  search text NOT NULL DEFAULT '', PRIMARY KEY (tenant, external_id));
CREATE INDEX IF NOT EXISTS view_users_manager ON view_users (tenant, manager_id);
CREATE INDEX IF NOT EXISTS view_users_email ON view_users (tenant, email_lower);
CREATE TABLE IF NOT EXISTS view_teams (tenant text NOT NULL, id text NOT NULL, doc jsonb NOT NULL, PRIMARY KEY (tenant, id));
CREATE TABLE IF NOT EXISTS view_locations (tenant text NOT NULL, id text NOT NULL, doc jsonb NOT NULL, PRIMARY KEY (tenant, id));
CREATE TABLE IF NOT EXISTS view_hr_records (
  tenant text NOT NULL, kind text NOT NULL, id text NOT NULL, doc jsonb NOT NULL,
  employee_id text, start_on text, end_on text, PRIMARY KEY (tenant, kind, id));
CREATE INDEX IF NOT EXISTS view_hr_records_employee ON view_hr_records (tenant, kind, employee_id);
${generationsMigration}`

/**
 * Rows per multi-row write. The rows go as one JSON parameter that PostgreSQL unpacks
 * (json_to_recordset): one statement of a few parameters, whatever the row count, so a large
 * batch costs few statements; the chunk only bounds the size of that one parameter. `json`, not
 * `jsonb`: the text is parsed once, straight into each row's columns, instead of first into one
 * jsonb value of every row (up to ~20 MB of states) that is then taken apart again — the same
 * rows for ~20 % less CPU in PGlite (audit_changes rows, 2026-12-06).
 */
const ROWS_PER_STATEMENT = 5000

function chunks<T>(rows: T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) out.push(rows.slice(i, i + ROWS_PER_STATEMENT))
  return out
}

/** The views on SQL: the read side for the API, the write side for the projector and the clock. */
export type SqlViewStore = ViewStore & ViewGenerations & HrRecordReader & {
  /** Users in the tenant's view (any status): the initial sync's `visible` figure. */
  countUsers(tenant: string): Promise<number>
}

const encodeCursor = (after: string) => Buffer.from(JSON.stringify({ a: after })).toString('base64url')
function decodeCursor(cursor: string | undefined): string | null {
  if (!cursor) return null
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { a?: unknown }
    // A forged cursor may carry text SQL cannot take (a NUL): that is a bad cursor, not a 500.
    if (typeof v.a === 'string' && isStorableText(v.a)) return v.a
  } catch {
    /* fall through */
  }
  throw new InvalidCursorError('the cursor is not one this API returned; start again without it')
}

function pageOf<T>(rows: T[], limit: number, keyOf: (row: T) => string): Page<T> {
  const data = rows.slice(0, limit)
  return { data, next: rows.length > limit ? encodeCursor(keyOf(data[data.length - 1])) : null }
}

const searchText = (u: LearnAmpUser) =>
  [u.firstName, u.lastName, u.displayName, u.email, u.jobTitle].filter(Boolean).join(' ').toLowerCase()

/** The folded entity states the views are computed from. */
function stateRows(tx: SqlQueryable): Pick<ViewTransaction, 'loadStates' | 'saveStates'> {
  return {
    async loadStates(tenant, category, ids) {
      const out = new Map<string, { state: unknown; decidedAt: Date | null }>()
      if (ids.length === 0) return out
      const { rows } = await tx.query<{ id: string; state: unknown; decided_at: Date | string | null }>(
        'SELECT id, state, decided_at FROM view_entity_states WHERE tenant = $1 AND category = $2 AND id = ANY($3::text[])',
        [tenant, category, ids],
      )
      for (const r of rows) out.set(r.id, { state: r.state, decidedAt: r.decided_at === null ? null : new Date(r.decided_at) })
      return out
    },
    async saveStates(tenant, rows) {
      // One statement per chunk instead of one per row: per-statement cost dominated projection.
      for (const chunk of chunks(rows)) {
        await tx.query(
          `INSERT INTO view_entity_states (tenant, category, id, state, next_due_at, decided_at)
           SELECT $1, r.category, r.id, r.state, r.next_due_at, r.decided_at
           FROM json_to_recordset($2::json) AS r(category text, id text, state jsonb, next_due_at timestamptz, decided_at timestamptz)
           ON CONFLICT (tenant, category, id) DO UPDATE SET state = EXCLUDED.state, next_due_at = EXCLUDED.next_due_at, decided_at = EXCLUDED.decided_at`,
          [
            tenant,
            JSON.stringify(
              chunk.map((r) => ({ category: r.category, id: r.id, state: r.state, next_due_at: r.nextDueAt ? r.nextDueAt.toISOString() : null, decided_at: r.decidedAt ? r.decidedAt.toISOString() : null })),
            ),
          ],
        )
      }
    },
  }
}

/** The users view, written many rows per statement. */
function userRows(tx: SqlQueryable): Pick<ViewTransaction, 'upsertUsers' | 'replaceUserDocs'> {
  return {
    async upsertUsers(tenant, rows) {
      for (const chunk of chunks(rows)) {
        await tx.query(
          `INSERT INTO view_users (tenant, external_id, doc, status, team_ids, location_id, manager_id, email_lower, search)
           SELECT $1, r.external_id, r.doc, r.status, r.team_ids, r.location_id, r.manager_id, r.email_lower, r.search
           FROM json_to_recordset($2::json) AS r(external_id text, doc jsonb, status text, team_ids text[], location_id text,
             manager_id text, email_lower text, search text)
           ON CONFLICT (tenant, external_id) DO UPDATE SET doc = EXCLUDED.doc, status = EXCLUDED.status,
             team_ids = EXCLUDED.team_ids, location_id = EXCLUDED.location_id, manager_id = EXCLUDED.manager_id,
             email_lower = EXCLUDED.email_lower, search = EXCLUDED.search`,
          [
            tenant,
            JSON.stringify(
              chunk.map(({ user, index }) => ({
                external_id: user.externalId,
                doc: user,
                status: user.status,
                team_ids: index.teamIds,
                location_id: index.locationId,
                manager_id: index.managerId,
                email_lower: user.email ? user.email.toLowerCase() : null,
                search: searchText(user),
              })),
            ),
          ],
        )
      }
    },
    async replaceUserDocs(tenant, users) {
      for (const chunk of chunks(users)) {
        await tx.query(
          `UPDATE view_users SET doc = r.doc FROM json_to_recordset($2::json) AS r(external_id text, doc jsonb)
           WHERE view_users.tenant = $1 AND view_users.external_id = r.external_id`,
          [tenant, JSON.stringify(chunk.map((user) => ({ external_id: user.externalId, doc: user })))],
        )
      }
    },
  }
}

/** Teams, locations and HR records: one document each, computed from one state; many rows per statement. */
function entityRows(tx: SqlQueryable): Pick<ViewTransaction, 'upsertTeams' | 'upsertLocations' | 'upsertHrRecords'> {
  const upsertDocs = async (table: 'view_teams' | 'view_locations', tenant: string, docs: Array<{ externalId: string }>) => {
    for (const chunk of chunks(docs)) {
      await tx.query(
        `INSERT INTO ${table} (tenant, id, doc) SELECT $1, r.id, r.doc FROM json_to_recordset($2::json) AS r(id text, doc jsonb)
         ON CONFLICT (tenant, id) DO UPDATE SET doc = EXCLUDED.doc`,
        [tenant, JSON.stringify(chunk.map((doc) => ({ id: doc.externalId, doc })))],
      )
    }
  }
  return {
    upsertTeams: (tenant, teams) => upsertDocs('view_teams', tenant, teams),
    upsertLocations: (tenant, locations) => upsertDocs('view_locations', tenant, locations),
    async upsertHrRecords(tenant, rows) {
      for (const chunk of chunks(rows)) {
        await tx.query(
          `INSERT INTO view_hr_records (tenant, kind, id, doc, employee_id, start_on, end_on)
           SELECT $1, r.kind, r.id, r.doc, r.employee_id, r.start_on, r.end_on
           FROM json_to_recordset($2::json) AS r(kind text, id text, doc jsonb, employee_id text, start_on text, end_on text)
           ON CONFLICT (tenant, kind, id) DO UPDATE SET doc = EXCLUDED.doc, employee_id = EXCLUDED.employee_id,
             start_on = EXCLUDED.start_on, end_on = EXCLUDED.end_on`,
          [tenant, JSON.stringify(chunk.map(({ kind, doc, index }) => ({ kind, id: doc.externalId, doc, employee_id: index.employeeId, start_on: index.startOn, end_on: index.endOn })))],
        )
      }
    },
  }
}

/** What a batch reads back from the users view: who references what, who shares an email. */
function userLookups(tx: SqlQueryable): Pick<ViewTransaction, 'usersReferencing' | 'usersWithEmails' | 'emailsOf'> {
  return {
    async usersReferencing(tenant, ref) {
      // One query per kind of reference that is asked for, so each can use its index.
      const { managerIds = [], teamIds = [], locationIds = [] } = ref
      const parts: string[] = []
      const params: unknown[] = [tenant]
      if (managerIds.length) parts.push(`SELECT external_id FROM view_users WHERE tenant = $1 AND manager_id = ANY($${params.push(managerIds)}::text[])`)
      if (teamIds.length) parts.push(`SELECT external_id FROM view_users WHERE tenant = $1 AND team_ids && $${params.push(teamIds)}::text[]`)
      if (locationIds.length) parts.push(`SELECT external_id FROM view_users WHERE tenant = $1 AND location_id = ANY($${params.push(locationIds)}::text[])`)
      if (parts.length === 0) return []
      const { rows } = await tx.query<{ external_id: string }>(parts.join(' UNION '), params)
      return rows.map((r) => r.external_id)
    },
    async usersWithEmails(tenant, emailsLower, exceptIds = []) {
      if (emailsLower.length === 0) return []
      const { rows } = await tx.query<{ doc: LearnAmpUser }>(
        'SELECT doc FROM view_users WHERE tenant = $1 AND email_lower = ANY($2::text[]) AND NOT (external_id = ANY($3::text[]))',
        [tenant, emailsLower, exceptIds],
      )
      return rows.map((r) => r.doc)
    },
    async emailsOf(tenant, externalIds) {
      if (externalIds.length === 0) return []
      const { rows } = await tx.query<{ email_lower: string }>(
        'SELECT email_lower FROM view_users WHERE tenant = $1 AND external_id = ANY($2::text[]) AND email_lower IS NOT NULL',
        [tenant, externalIds],
      )
      return rows.map((r) => r.email_lower)
    },
  }
}

/** The checkpoint and the events the projection skipped. */
function checkpointRows(tx: SqlQueryable): Pick<ViewTransaction, 'recordSkippedEvent' | 'setCheckpoint'> {
  return {
    async recordSkippedEvent(checkpoint, e) {
      await tx.query(
        `INSERT INTO projection_dead_letters (checkpoint, position, stream_name, event_id, type, reason) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (checkpoint, position) DO UPDATE SET reason = EXCLUDED.reason, at = now()`,
        [checkpoint, e.position.toString(), e.streamName, e.eventId, e.type, e.reason],
      )
    },
    async setCheckpoint(name, position, expected) {
      // Compare-and-set: the row moves only from the position this runner expects; a stale writer
      // (another projector, a rebuild under way) changes nothing and learns it.
      const { rows } = await tx.query<{ name: string }>(
        `INSERT INTO projection_checkpoints (name, position) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()
         WHERE projection_checkpoints.position IS NOT DISTINCT FROM $3::bigint
         RETURNING name`,
        [name, position.toString(), expected === null ? null : expected.toString()],
      )
      if (rows.length === 0) {
        const found = await tx.query<{ position: string }>('SELECT position FROM projection_checkpoints WHERE name = $1', [name])
        throw new CheckpointConflictError(name, expected, found.rows[0] ? BigInt(found.rows[0].position) : null)
      }
    },
  }
}

function transactionOf(tx: SqlQueryable): ViewTransaction {
  return { sql: tx, ...stateRows(tx), ...userRows(tx), ...entityRows(tx), ...userLookups(tx), ...checkpointRows(tx) }
}

/** The users view, as the read API asks for it. */
function userReads(db: SqlDatabase): Pick<SqlViewStore, 'listUsers' | 'countUsers' | 'getUser'> {
  return {
    async listUsers(tenant: string, query: UserQuery) {
      const after = decodeCursor(query.cursor)
      const params: unknown[] = [tenant, after ?? '', query.limit + 1]
      const where: string[] = ['tenant = $1', 'external_id > $2']
      if (query.status) where.push(`status = $${params.push(query.status)}`)
      if (query.team) where.push(`$${params.push(query.team)} = ANY(team_ids)`)
      if (query.location) where.push(`location_id = $${params.push(query.location)}`)
      // (doc::jsonb): the document column may be stored as jsonb or as JSON text.
      if (query.issue) where.push(`(doc::jsonb)->'issues' ? $${params.push(query.issue)}`)
      if (query.q) where.push(`search LIKE $${params.push(`%${query.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`)
      const { rows } = await db.query<{ doc: LearnAmpUser }>(
        `SELECT doc FROM view_users WHERE ${where.join(' AND ')} ORDER BY external_id LIMIT $3`,
        params,
      )
      return pageOf(rows.map((r) => r.doc), query.limit, (u) => u.externalId)
    },
    async countUsers(tenant) {
      const { rows } = await db.query<{ n: string | number }>('SELECT count(*) AS n FROM view_users WHERE tenant = $1', [tenant])
      return Number(rows[0]?.n ?? 0)
    },
    async getUser(tenant, externalId) {
      const { rows } = await db.query<{ doc: LearnAmpUser }>('SELECT doc FROM view_users WHERE tenant = $1 AND external_id = $2', [tenant, externalId])
      return rows[0]?.doc ?? null
    },
  }
}

/** Teams (with members), locations and the per-tenant view generations. */
function teamLocationReads(db: SqlDatabase): Pick<SqlViewStore, 'listTeams' | 'getTeam' | 'listLocations' | 'getLocation' | 'generations'> {
  return {
    async listTeams(tenant, page) {
      const after = decodeCursor(page.cursor)
      const { rows } = await db.query<{ doc: LearnAmpTeam }>(
        'SELECT doc FROM view_teams WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3',
        [tenant, after ?? '', page.limit + 1],
      )
      return pageOf(rows.map((r) => r.doc), page.limit, (t) => t.externalId)
    },
    async getTeam(tenant, id): Promise<TeamWithMembers | null> {
      const { rows } = await db.query<{ doc: LearnAmpTeam }>('SELECT doc FROM view_teams WHERE tenant = $1 AND id = $2', [tenant, id])
      if (!rows[0]) return null
      const members = await db.query<{ doc: LearnAmpUser }>(
        'SELECT doc FROM view_users WHERE tenant = $1 AND $2 = ANY(team_ids) ORDER BY external_id',
        [tenant, id],
      )
      return {
        ...rows[0].doc,
        members: members.rows.map(({ doc }) => ({ externalId: doc.externalId, displayName: doc.displayName, status: doc.status })),
      }
    },
    async listLocations(tenant, page) {
      const after = decodeCursor(page.cursor)
      const { rows } = await db.query<{ doc: LearnAmpLocation }>(
        'SELECT doc FROM view_locations WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3',
        [tenant, after ?? '', page.limit + 1],
      )
      return pageOf(rows.map((r) => r.doc), page.limit, (l) => l.externalId)
    },
    async getLocation(tenant, id) {
      const { rows } = await db.query<{ doc: LearnAmpLocation }>('SELECT doc FROM view_locations WHERE tenant = $1 AND id = $2', [tenant, id])
      return rows[0]?.doc ?? null
    },
    async generations() {
      const { rows } = await db.query<{ tenant: string; generation: string }>('SELECT tenant, generation FROM view_generations')
      return new Map(rows.map((r) => [r.tenant, BigInt(r.generation)]))
    },
  }
}

/** Legal entities, absence types and absences. */
function hrRecordReads(db: SqlDatabase): Pick<SqlViewStore, 'listHrRecords' | 'getHrRecord'> {
  return {
    async listHrRecords(tenant, kind, query) {
      const after = decodeCursor(query.cursor)
      const params: unknown[] = [tenant, kind, after ?? '', query.limit + 1]
      const where = ['tenant = $1', 'kind = $2', 'id > $3']
      if (query.employee) where.push(`employee_id = $${params.push(query.employee)}`)
      // Overlap with [from, to]: calendar days compare as text (YYYY-MM-DD); an open end overlaps.
      if (query.from) where.push(`(end_on IS NULL OR end_on >= $${params.push(query.from)})`)
      if (query.to) where.push(`(start_on IS NULL OR start_on <= $${params.push(query.to)})`)
      const { rows } = await db.query<{ doc: { externalId: string } }>(`SELECT doc FROM view_hr_records WHERE ${where.join(' AND ')} ORDER BY id LIMIT $4`, params)
      // The documents were written by upsertHrRecords for this kind.
      return pageOf(rows.map((r) => r.doc), query.limit, (d) => d.externalId) as never
    },
    async getHrRecord(tenant, kind, id) {
      const { rows } = await db.query<{ doc: never }>('SELECT doc FROM view_hr_records WHERE tenant = $1 AND kind = $2 AND id = $3', [tenant, kind, id])
      return rows[0]?.doc ?? null
    },
  }
}

/** The write side: checkpoints, the batch's transaction, the clock's due employees, reset and counts. */
function writerOps(db: SqlDatabase, commitListeners: Set<() => void>): Pick<SqlViewStore, 'checkpoint' | 'checkpoints' | 'lockCheckpoint' | 'transaction' | 'onCommit' | 'dueEmployees' | 'setNextDueAt' | 'reset' | 'suspendIndexes' | 'restoreIndexes' | 'skippedEvents' | 'counts'> {
  return {
    async checkpoint(name) {
      const { rows } = await db.query<{ position: string }>('SELECT position FROM projection_checkpoints WHERE name = $1', [name])
      return rows[0] ? BigInt(rows[0].position) : null
    },
    async checkpoints() {
      const { rows } = await db.query<{ name: string; position: string }>('SELECT name, position FROM projection_checkpoints')
      return new Map(rows.map((r) => [r.name, BigInt(r.position)]))
    },
    lockCheckpoint: (name) => checkpointLocks.acquire(db, name),
    async transaction(fn) {
      const result = await db.transaction((tx) => fn(transactionOf(tx)))
      for (const listener of commitListeners) listener()
      return result
    },
    onCommit(listener) {
      commitListeners.add(listener)
      return () => commitListeners.delete(listener)
    },
    async dueEmployees(now, limit) {
      const { rows } = await db.query<{ tenant: string; id: string }>(
        `SELECT tenant, id FROM view_entity_states WHERE category = 'employee' AND next_due_at <= $1
         ORDER BY next_due_at LIMIT $2`,
        [now.toISOString(), limit],
      )
      return rows
    },
    async setNextDueAt(tenant, id, at) {
      await db.query(
        "UPDATE view_entity_states SET next_due_at = $3 WHERE tenant = $1 AND category = 'employee' AND id = $2",
        [tenant, id, at ? at.toISOString() : null],
      )
    },
    async reset(checkpointName) {
      await db.transaction(async (tx) => {
        for (const table of ['view_entity_states', 'view_users', 'view_teams', 'view_locations', 'view_hr_records', 'audit_changes']) await tx.query(`DELETE FROM ${table}`)
        await tx.query('DELETE FROM projection_checkpoints WHERE name = $1', [checkpointName])
        await tx.query('DELETE FROM projection_dead_letters WHERE checkpoint = $1', [checkpointName]) // tried afresh
      })
      for (const listener of commitListeners) listener()
    },
    suspendIndexes: () => dropChangeLogIndexes(db),
    restoreIndexes: () => migrateChangeLog(db),
    async skippedEvents(checkpoint): Promise<SkippedEvent[]> {
      const { rows } = await db.query<{ position: string; stream_name: string; event_id: string; type: string; reason: string; at: Date | string }>(
        'SELECT position, stream_name, event_id, type, reason, at FROM projection_dead_letters WHERE checkpoint = $1 ORDER BY position',
        [checkpoint],
      )
      return rows.map((r) => ({ checkpoint, position: BigInt(r.position), streamName: r.stream_name, eventId: r.event_id, type: r.type, reason: r.reason, at: new Date(r.at) }))
    },
    async counts() {
      const { rows } = await db.query<{ users: string; teams: string; locations: string; states: string }>(
        `SELECT (SELECT count(*) FROM view_users) AS users, (SELECT count(*) FROM view_teams) AS teams,
                (SELECT count(*) FROM view_locations) AS locations, (SELECT count(*) FROM view_entity_states) AS states`,
      )
      const r = rows[0]
      return { users: Number(r.users), teams: Number(r.teams), locations: Number(r.locations), states: Number(r.states) }
    },
  }
}

export async function openSqlViewStore(db: SqlDatabase): Promise<SqlViewStore> {
  await db.exec(migration)
  const commitListeners = new Set<() => void>()
  await migrateChangeLog(db)
  return { ...userReads(db), ...teamLocationReads(db), ...hrRecordReads(db), ...writerOps(db, commitListeners) }
}
