// Per-employee data keys for crypto-shredding (GDPR erasure): every employee stream's event data is
// encrypted with its own random AES-256 key, kept here; erasing the employee deletes the key, which
// makes every event of that stream unreadable in any event store adapter and in every backup of it.
// The keys live in the SQL database (embedded or DATABASE_URL) whichever event store is used.
import { randomBytes } from 'node:crypto'
import type { SqlDatabase, SqlQueryable } from '../../sql/database.ts'
import { BoundedCache, type BoundedCacheLimits } from '../bounded-cache.ts'

const migration = `
CREATE TABLE IF NOT EXISTS personal_data_keys (
  stream text PRIMARY KEY, tenant text NOT NULL, employee_id text NOT NULL,
  key text, created_at timestamptz NOT NULL DEFAULT now(), erased_at timestamptz);
CREATE INDEX IF NOT EXISTS personal_data_keys_erased ON personal_data_keys (tenant, employee_id) WHERE erased_at IS NOT NULL;
`

/** A stream's key, or the fact that it was erased. */
export type KeyState = { kind: 'key'; key: Buffer } | { kind: 'erased'; erasedAt: Date }

export interface PersonalDataKeys {
  /** The stream's key, created on first use; `erased` once the employee was erased. */
  keyFor(stream: string, owner: { tenant: string; employeeId: string }): Promise<KeyState>
  /** `keyFor` of several streams in two statements (one insert, one read), not two per stream. */
  keysFor(streams: Array<{ stream: string; owner: { tenant: string; employeeId: string } }>): Promise<Map<string, KeyState>>
  /** Known states of these streams (streams without a key row are absent). */
  statesOf(streams: string[]): Promise<Map<string, KeyState>>
  /**
   * Deletes the key for good. Returns when it was erased and whether it already was. `together`
   * runs in the same transaction (the keys' SQL database): what it removes is gone exactly when
   * the key is — neither survives the other.
   */
  erase(
    stream: string,
    owner: { tenant: string; employeeId: string },
    options?: { together?: (tx: SqlQueryable) => Promise<void> },
  ): Promise<{ erasedAt: Date; alreadyErased: boolean }>
  /** Which of these employees of the tenant were erased. */
  erasedAmong(tenant: string, employeeIds: string[]): Promise<Set<string>>
  /**
   * Which of these streams are erased, asked inside the caller's transaction (a view write) — see
   * ERASURE_LOCK: an erasure still committing is waited for and seen, and one that starts later
   * waits until that transaction has committed, so it purges what the transaction wrote.
   */
  erasedStreamsIn(tx: SqlQueryable, streams: string[]): Promise<Set<string>>
}

/**
 * Orders erasures against the transactions that write views from decrypted events. Those events
 * were read (and decrypted, perhaps with a cached key) before the view transaction began: without
 * this, an erasure committing in between purged the views and the projector's commit then filled
 * them again with the erased person's data. A view writer takes the lock shared and then reads the
 * erased streams (READ COMMITTED: a fresh snapshot per statement, taken after the wait); an
 * erasure takes it exclusively as its first statement. One transaction-scoped advisory lock
 * instead of a row lock per key: a batch of 500 employees then costs one lock, and it also covers
 * streams that have no key row yet (plaintext events from before encryption).
 */
const ERASURE_LOCK = "hashtextextended('kombo-sync personal data erasure', 0)"

type Row = { stream: string; key: string | null; erased_at: Date | string | null }

const toState = (row: Row): KeyState =>
  row.erased_at !== null || row.key === null
    ? { kind: 'erased', erasedAt: new Date(row.erased_at ?? 0) }
    : { kind: 'key', key: keyFromBase64(row.key) }

/**
 * A key in a Buffer of its own. `Buffer.from(base64)` of 32 bytes is a slice of Node's shared 8 KiB
 * pool, and a cached slice keeps its whole pool slab alive: with other allocations in between,
 * each cached key held ~8 KiB (75 MB for 10k keys in the projector, measured in a heap snapshot),
 * 250 times what the cache's byte budget counts. `Buffer.alloc` is never pooled.
 */
export function keyFromBase64(base64: string): Buffer {
  const decoded = Buffer.from(base64, 'base64')
  const own = Buffer.alloc(decoded.length)
  decoded.copy(own)
  return own
}

/** The keys' in-process cache, as the functions outside `openSqlPersonalDataKeys` use it. */
interface KeyCache {
  cached(stream: string): KeyState | undefined
  remember(stream: string, state: KeyState): void
}

async function keysForSql(
  db: SqlDatabase,
  cache: KeyCache,
  streams: Array<{ stream: string; owner: { tenant: string; employeeId: string } }>,
): Promise<Map<string, KeyState>> {
  const result = new Map<string, KeyState>()
  const missing = new Map<string, { tenant: string; employeeId: string }>()
  for (const { stream, owner } of streams) {
    const hit = cache.cached(stream)
    if (hit) result.set(stream, hit)
    else missing.set(stream, owner)
  }
  if (missing.size === 0) return result
  const names = [...missing.keys()]
  // Arrays as parameters: one statement whatever the count, and no parameter limit to chunk for.
  await db.query(
    `INSERT INTO personal_data_keys (stream, tenant, employee_id, key)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT (stream) DO NOTHING`,
    [names, names.map((n) => missing.get(n)!.tenant), names.map((n) => missing.get(n)!.employeeId), names.map(() => randomBytes(32).toString('base64'))],
  )
  const { rows } = await db.query<Row>('SELECT stream, key, erased_at FROM personal_data_keys WHERE stream = ANY($1::text[])', [names])
  for (const row of rows) {
    const state = toState(row)
    cache.remember(row.stream, state)
    result.set(row.stream, state)
  }
  return result
}

/**
 * Keys kept in memory at most, by count and by approximate bytes (a key state is ~300 bytes with
 * its stream name): the cache must not grow with the number of employees a process has seen. A key
 * evicted or expired is read again (one statement per batch, keysFor), so the limits trade memory
 * for reads, never correctness. Constants, not configuration: nobody should need to tune them.
 */
export const KEY_CACHE_LIMITS: BoundedCacheLimits = { maxEntries: 50_000, maxBytes: 16 * 1024 * 1024 }

/**
 * `cacheMs`: how long a key is reused without asking the database. An erasure in this process is
 * seen at once; another process (a separate processor or projector role) sees it within cacheMs.
 */
export function keyCache(cacheMs: number, limits: BoundedCacheLimits = KEY_CACHE_LIMITS, now: () => number = Date.now) {
  const cache = new BoundedCache<{ state: KeyState; at: number }>(limits, ({ state }) => (state.kind === 'key' ? 120 + state.key.length : 96))
  return {
    cache,
    cached(stream: string) {
      const hit = cache.get(stream)
      if (!hit) return undefined
      if (now() - hit.at > cacheMs) {
        cache.delete(stream)
        return undefined
      }
      return hit.state
    },
    remember(stream: string, state: KeyState) {
      cache.set(stream, { state, at: now() })
    },
  }
}

/** The erased among `streams`, read in `tx` once no erasure holds ERASURE_LOCK (never from a cache). */
async function erasedRowsIn(tx: SqlQueryable, streams: string[]): Promise<Row[]> {
  await tx.query(`SELECT pg_advisory_xact_lock_shared(${ERASURE_LOCK})`)
  if (streams.length === 0) return []
  const { rows } = await tx.query<Row>(
    'SELECT stream, key, erased_at FROM personal_data_keys WHERE stream = ANY($1::text[]) AND (erased_at IS NOT NULL OR key IS NULL)',
    [[...new Set(streams)]],
  )
  return rows
}

export async function openSqlPersonalDataKeys(db: SqlDatabase, options: { cacheMs?: number; cacheLimits?: BoundedCacheLimits } = {}): Promise<PersonalDataKeys> {
  await db.exec(migration)
  const { cache, cached, remember } = keyCache(options.cacheMs ?? 30_000, options.cacheLimits)

  return {
    async keyFor(stream, owner) {
      const hit = cached(stream)
      if (hit) return hit
      await db.query(
        'INSERT INTO personal_data_keys (stream, tenant, employee_id, key) VALUES ($1, $2, $3, $4) ON CONFLICT (stream) DO NOTHING',
        [stream, owner.tenant, owner.employeeId, randomBytes(32).toString('base64')],
      )
      const { rows } = await db.query<Row>('SELECT stream, key, erased_at FROM personal_data_keys WHERE stream = $1', [stream])
      const state = toState(rows[0])
      remember(stream, state)
      return state
    },

    keysFor: (streams) => keysForSql(db, { cached, remember }, streams),

    async statesOf(streams) {
      const result = new Map<string, KeyState>()
      const missing: string[] = []
      for (const s of new Set(streams)) {
        const hit = cached(s)
        if (hit) result.set(s, hit)
        else missing.push(s)
      }
      if (missing.length) {
        const { rows } = await db.query<Row>('SELECT stream, key, erased_at FROM personal_data_keys WHERE stream = ANY($1::text[])', [missing])
        for (const row of rows) {
          const state = toState(row)
          remember(row.stream, state)
          result.set(row.stream, state)
        }
      }
      return result
    },

    async erase(stream, owner, options = {}) {
      cache.delete(stream)
      const { erasedAt, alreadyErased } = await db.transaction(async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(${ERASURE_LOCK})`)
        const { rows: before } = await tx.query<Row>('SELECT stream, key, erased_at FROM personal_data_keys WHERE stream = $1', [stream])
        // Insert-or-update: an employee erased before their first event still gets no key later.
        const { rows } = await tx.query<{ erased_at: Date | string }>(
          `INSERT INTO personal_data_keys (stream, tenant, employee_id, key, erased_at) VALUES ($1, $2, $3, NULL, now())
           ON CONFLICT (stream) DO UPDATE SET key = NULL, erased_at = COALESCE(personal_data_keys.erased_at, now())
           RETURNING erased_at`,
          [stream, owner.tenant, owner.employeeId],
        )
        await options.together?.(tx)
        return { erasedAt: new Date(rows[0].erased_at), alreadyErased: before.length > 0 && before[0].erased_at !== null }
      })
      // PostgreSQL keeps a deleted value in the table file until it is vacuumed (never in a transaction).
      await db.exec('VACUUM personal_data_keys').catch(() => {})
      remember(stream, { kind: 'erased', erasedAt })
      return { erasedAt, alreadyErased }
    },

    async erasedAmong(tenant, employeeIds) {
      if (employeeIds.length === 0) return new Set()
      const { rows } = await db.query<{ employee_id: string }>(
        'SELECT employee_id FROM personal_data_keys WHERE tenant = $1 AND employee_id = ANY($2::text[]) AND erased_at IS NOT NULL',
        [tenant, [...new Set(employeeIds)]],
      )
      return new Set(rows.map((r) => r.employee_id))
    },

    async erasedStreamsIn(tx, streams) {
      const rows = await erasedRowsIn(tx, streams)
      for (const row of rows) remember(row.stream, toState(row))
      return new Set(rows.map((r) => r.stream))
    },
  }
}
