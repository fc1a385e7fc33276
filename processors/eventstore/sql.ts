// The event store in one SQL table, on the embedded database (PGlite) or a PostgreSQL server.
// `position` is a bigserial, so the global order is the insert order; a stream's `revision` is
// unique per stream, which is what makes optimistic concurrency hold even without the lock below.
import type {
  StreamAppend,
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  CountAllOptions,
  ReadAllOptions,
  ReadAllBackwardsOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from './port.ts'
import { WrongExpectedRevisionError } from './port.ts'
import { assertDistinctNames, assertDistinctStreams } from './append-each.ts'
import { streamTenantHash, streamTenantHashSql } from './tenant-shard.ts'
import { Wakeups } from '../../sql/wakeups.ts'
import type { SqlDatabase, SqlQueryable } from '../../sql/database.ts'

// Appends are serialised by this transaction-level advisory lock. Why: bigserial values are taken
// at insert time but become visible at commit, so without it a transaction could commit position 7
// after another already committed 8, and a catch-up reader that has passed 8 would skip 7 for good.
// Under the lock, positions commit in increasing order (PostgreSQL makes a commit visible before it
// releases the transaction's locks). The cost is one append at a time per database, which the
// embedded store has anyway (one connection) and which suits this service's write rate.
const APPEND_LOCK = 0x6b6f6d626f01 // "kombo" + 1, a fixed key shared by every process on the database
const MIGRATION_LOCK = 0x6b6f6d626f00

const SUBSCRIPTION_PAGE = 500
const MAX_READ_FAILURES = 5

interface EventRow {
  position: string | number | bigint
  stream_name: string
  revision: string | number | bigint
  event_id: string
  type: string
  data: Record<string, unknown> | string
  metadata: Record<string, unknown> | string | null
  recorded_at: Date | string
}

const COLUMNS = 'position, stream_name, revision, event_id, type, data, metadata, recorded_at'
/** COLUMNS with the payloads left out (ReadAllOptions.withoutData): the same row shape, `{}` for both. */
const COLUMNS_WITHOUT_DATA = "position, stream_name, revision, event_id, type, '{}'::jsonb AS data, '{}'::jsonb AS metadata, recorded_at"
const columnsOf = (opts: ReadAllOptions) => (opts.withoutData ? COLUMNS_WITHOUT_DATA : COLUMNS)

const asJson = (v: Record<string, unknown> | string | null): Record<string, unknown> =>
  v == null ? {} : typeof v === 'string' ? (JSON.parse(v) as Record<string, unknown>) : v

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    type: row.type,
    streamName: row.stream_name,
    revision: BigInt(row.revision),
    position: BigInt(row.position),
    data: asJson(row.data),
    metadata: asJson(row.metadata),
    recordedAt: row.recorded_at instanceof Date ? row.recorded_at : new Date(row.recorded_at),
  }
}

export async function migrateEventStore(db: SqlDatabase): Promise<void> {
  // Under a lock, so that two processes starting at once do not race on CREATE … IF NOT EXISTS.
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await tx.query(`CREATE TABLE IF NOT EXISTS events (
      position bigserial PRIMARY KEY,
      stream_name text NOT NULL,
      revision bigint NOT NULL,
      event_id uuid NOT NULL,
      type text NOT NULL,
      data jsonb NOT NULL,
      metadata jsonb NOT NULL DEFAULT '{}',
      recorded_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (stream_name, revision)
    )`)
    await tx.query('CREATE INDEX IF NOT EXISTS events_stream_event_id ON events (stream_name, event_id)')
    await addTenantHash(tx)
  })
}

/**
 * `tenant_hash`: the stream's tenant hashed (tenant-shard.ts), set at append, so a shard's read
 * filters in SQL (`mod(tenant_hash, N) = i`) and other tenants' rows never leave the database.
 * NULL for streams that are not a tenant's. Added to a store made before it, the existing rows are
 * filled in once, in SQL, by the same hash.
 */
async function addTenantHash(tx: SqlQueryable): Promise<void> {
  const { rows } = await tx.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'events' AND column_name = 'tenant_hash'",
  )
  if (rows[0].n > 0) return
  await tx.query('ALTER TABLE events ADD COLUMN tenant_hash bigint')
  await tx.query(`UPDATE events SET tenant_hash = ${streamTenantHashSql('stream_name')}`)
}

function checkExpectation(streamName: string, expected: ExpectedRevision, current: bigint | null): void {
  const actual = current ?? 'no_stream'
  if (expected === 'any') return
  if (expected === 'no_stream' ? current !== null : expected === 'stream_exists' ? current === null : current !== expected) {
    throw new WrongExpectedRevisionError(streamName, expected, actual)
  }
}

interface StoredRef {
  event_id: string
  revision: string | number | bigint
  position: string | number | bigint
  latest: boolean
}

/**
 * The stream's last event and any of `ids` it already holds, in one round trip (appends hold the
 * lock while they run, so every saved round trip is append throughput).
 */
async function readStreamState(tx: SqlQueryable, streamName: string, ids: string[]) {
  const placeholders = ids.map((_, i) => `$${i + 2}::uuid`).join(', ')
  const matching = ids.length
    ? ` UNION ALL (SELECT event_id, revision, position, false FROM events WHERE stream_name = $1 AND event_id IN (${placeholders}))`
    : ''
  const { rows } = await tx.query<StoredRef>(
    `(SELECT event_id, revision, position, true AS latest FROM events WHERE stream_name = $1 ORDER BY revision DESC LIMIT 1)${matching}`,
    [streamName, ...ids],
  )
  const last = rows.find((r) => r.latest)
  const stored = rows.filter((r) => !r.latest).sort((a, b) => (BigInt(a.revision) < BigInt(b.revision) ? -1 : 1))
  return { last, stored }
}

/**
 * An idempotent retry: every event id is already in the stream, consecutively and in this order,
 * where the expectation would have put them. Returns the result of the original append, or null
 * when none of the ids is stored. Some but not all stored (or stored elsewhere) is a conflict.
 */
function earlierAppend(
  stored: StoredRef[],
  streamName: string,
  ids: string[],
  expected: ExpectedRevision,
  current: bigint | null,
): AppendResult | null {
  if (stored.length === 0) return null
  const first = BigInt(stored[0].revision)
  const inPlace =
    stored.length === ids.length &&
    stored.every((r, i) => r.event_id.toLowerCase() === ids[i].toLowerCase() && BigInt(r.revision) === first + BigInt(i)) &&
    (expected === 'no_stream' ? first === 0n : typeof expected === 'bigint' ? first === expected + 1n : true)
  if (!inPlace) throw new WrongExpectedRevisionError(streamName, expected, current ?? 'no_stream')
  const last = stored[stored.length - 1]
  return { nextExpectedRevision: BigInt(last.revision), position: BigInt(last.position) }
}

async function append(tx: SqlQueryable, streamName: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
  // The lock is its own statement: a statement's snapshot is taken before it runs, so reading in
  // the same statement that waits for the lock could miss the append that held it.
  await tx.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK])
  const ids = events.map((e) => e.id)
  const { last, stored } = await readStreamState(tx, streamName, ids)
  const current = last ? BigInt(last.revision) : null
  if (events.length === 0) {
    checkExpectation(streamName, expected, current)
    return { nextExpectedRevision: current ?? -1n, position: last ? BigInt(last.position) : 0n }
  }
  const earlier = earlierAppend(stored, streamName, ids, expected, current)
  if (earlier) return earlier
  checkExpectation(streamName, expected, current)

  const next = current === null ? 0n : current + 1n
  const params: unknown[] = [streamName, streamTenantHash(streamName)]
  const values = events.map((e, i) => {
    params.push(String(next + BigInt(i)), e.id, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata ?? {}))
    const b = params.length - 5
    return `($1, $${b + 1}::bigint, $${b + 2}::uuid, $${b + 3}, $${b + 4}::jsonb, $${b + 5}::jsonb, $2::bigint)`
  })
  const inserted = await tx.query<{ position: string }>(
    `INSERT INTO events (stream_name, revision, event_id, type, data, metadata, tenant_hash) VALUES ${values.join(', ')} RETURNING position`,
    params,
  )
  const positions = inserted.rows.map((r) => BigInt(r.position))
  return { nextExpectedRevision: next + BigInt(events.length - 1), position: positions.reduce((a, b) => (a > b ? a : b)) }
}

const ROWS_PER_INSERT = 1000 // × 7 parameters, under PostgreSQL's 65,535

/**
 * Several streams' appends in one transaction: one lock, one read of every stream's last revision
 * and of the event ids already stored, one insert. A stream whose expectation fails gets its
 * WrongExpectedRevisionError and writes nothing; the others are written.
 */
async function appendMany(tx: SqlQueryable, appends: StreamAppend[]): Promise<Array<AppendResult | WrongExpectedRevisionError>> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK])
  const names = appends.map((a) => a.streamName)
  const ids = appends.flatMap((a) => a.events.map((e) => e.id))
  const { rows: lastRows } = await tx.query<{ stream_name: string; revision: string; position: string }>(
    // One backward probe of the (stream_name, revision) index per stream. The DISTINCT ON form
    // (`WHERE stream_name = ANY($1) ORDER BY stream_name, revision DESC`) was planned as a scan of
    // the whole log plus a sort wherever statistics were missing or stale (always, embedded): 21 ms
    // per batch at 100k events against ~2.5 ms for this, growing with the log.
    `SELECT s.name AS stream_name, e.revision, e.position FROM unnest($1::text[]) AS s(name)
       CROSS JOIN LATERAL (SELECT revision, position FROM events WHERE stream_name = s.name ORDER BY revision DESC LIMIT 1) e`,
    [names],
  )
  const lastOf = new Map(lastRows.map((r) => [r.stream_name, r]))
  const storedOf = new Map<string, Array<StoredRef & { stream_name: string }>>()
  if (ids.length > 0) {
    const { rows } = await tx.query<StoredRef & { stream_name: string }>(
      'SELECT stream_name, event_id, revision, position, false AS latest FROM events WHERE stream_name = ANY($1::text[]) AND event_id = ANY($2::uuid[])',
      [names, ids],
    )
    for (const r of rows) storedOf.set(r.stream_name, [...(storedOf.get(r.stream_name) ?? []), r])
  }

  const results: Array<AppendResult | WrongExpectedRevisionError> = new Array(appends.length)
  const rows: Array<{ index: number; streamName: string; revision: bigint; event: EventToAppend; tenantHash: number | null }> = []
  appends.forEach((a, index) => {
    const expected = a.expectedRevision ?? 'any'
    const last = lastOf.get(a.streamName)
    const current = last ? BigInt(last.revision) : null
    try {
      if (a.events.length === 0) {
        checkExpectation(a.streamName, expected, current)
        results[index] = { nextExpectedRevision: current ?? -1n, position: last ? BigInt(last.position) : 0n }
        return
      }
      const mine = new Set(a.events.map((e) => e.id.toLowerCase()))
      const stored = (storedOf.get(a.streamName) ?? [])
        .filter((r) => mine.has(r.event_id.toLowerCase()))
        .sort((x, y) => (BigInt(x.revision) < BigInt(y.revision) ? -1 : 1))
      const earlier = earlierAppend(stored, a.streamName, a.events.map((e) => e.id), expected, current)
      if (earlier) {
        results[index] = earlier
        return
      }
      checkExpectation(a.streamName, expected, current)
      const next = current === null ? 0n : current + 1n
      const tenantHash = streamTenantHash(a.streamName)
      a.events.forEach((event, i) => rows.push({ index, streamName: a.streamName, revision: next + BigInt(i), event, tenantHash }))
      results[index] = { nextExpectedRevision: next + BigInt(a.events.length - 1), position: -1n }
    } catch (err) {
      if (!(err instanceof WrongExpectedRevisionError)) throw err
      results[index] = err
    }
  })

  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + ROWS_PER_INSERT)
    const params: unknown[] = []
    const values = chunk.map((r) => {
      params.push(r.streamName, String(r.revision), r.event.id, r.event.type, JSON.stringify(r.event.data), JSON.stringify(r.event.metadata ?? {}), r.tenantHash)
      const b = params.length - 7
      return `($${b + 1}, $${b + 2}::bigint, $${b + 3}::uuid, $${b + 4}, $${b + 5}::jsonb, $${b + 6}::jsonb, $${b + 7}::bigint)`
    })
    const inserted = await tx.query<{ position: string }>(
      `INSERT INTO events (stream_name, revision, event_id, type, data, metadata, tenant_hash) VALUES ${values.join(', ')} RETURNING position`,
      params,
    )
    // RETURNING gives one row per VALUES row, in that order.
    inserted.rows.forEach((row, i) => {
      const result = results[chunk[i].index] as AppendResult
      const position = BigInt(row.position)
      if (position > result.position) result.position = position
    })
  }
  return results
}

/** What the store's methods share: the database, the local wake-ups and the live subscriptions. */
interface SqlStoreContext {
  db: SqlDatabase
  pollIntervalMs: number
  // Wakes subscriptions of this process right after a local append, so they need not wait a poll.
  wakeups: Wakeups
  subscriptions: Set<Subscription>
}

/**
 * ` AND (starts_with(stream_name || '', $3) OR …)`, its parameters pushed; null for an empty prefix
 * list (nothing matches). The `|| ''` is on purpose: on the bare column the planner uses the
 * `(stream_name, revision)` index for the prefixes, i.e. a bitmap scan of every event of those
 * categories (the whole log, for the projector's prefixes) plus a top-N sort, per page — 56–265 ms
 * per 500-event page at 100k events instead of ~1–8 ms, so a catch-up read was quadratic in the
 * log's size (9.2 of 20.9 s CPU of a 100k rebuild). On an expression it walks the position index
 * and filters, which is what a page read in position order wants.
 */
function prefixFilter(params: unknown[], prefixes: string[] | undefined): string | null {
  if (!prefixes) return ''
  if (prefixes.length === 0) return null
  return ` AND (${prefixes.map((p) => (params.push(p), `starts_with(stream_name || '', $${params.length})`)).join(' OR ')})`
}

async function readAllSql(ctx: SqlStoreContext, opts: ReadAllOptions = {}): Promise<RecordedEvent[]> {
  const params: unknown[] = [String(opts.after ?? 0n), opts.maxCount ?? null]
  const filter = prefixFilter(params, opts.streamPrefixes)
  if (filter === null) return []
  if (opts.tenantShard) return readShardSql(ctx, opts, params, filter)
  const { rows } = await ctx.db.query<EventRow>(
    `SELECT ${columnsOf(opts)} FROM events WHERE position > $1::bigint${filter} ORDER BY position LIMIT $2`,
    params,
  )
  return rows.map(toRecorded)
}

/**
 * A shard's read: its tenants' events in position order, and the last event of the selected
 * streams (`tail`) in the same statement, hence the same snapshot: positions commit in order (the
 * append lock), so every shard event up to the tail is visible to it. The tail is delivered when
 * the page is not full and it lies beyond the page: the reader's position reaches the end of the
 * log (ReadAllOptions.tenantShard). The position-ordered scan visits every row, but only the
 * shard's (and the tail) are decoded and sent.
 */
async function readShardSql(ctx: SqlStoreContext, opts: ReadAllOptions, params: unknown[], filter: string): Promise<RecordedEvent[]> {
  const { index, count } = opts.tenantShard!
  params.push(count, index)
  const [n, i] = [params.length - 1, params.length]
  const { rows } = await ctx.db.query<EventRow & { tail: boolean }>(
    `(SELECT ${columnsOf(opts)}, false AS tail FROM events WHERE position > $1::bigint${filter} AND mod(tenant_hash, $${n}::bigint) = $${i}::bigint ORDER BY position LIMIT $2)
     UNION ALL
     (SELECT ${columnsOf(opts)}, true AS tail FROM events WHERE position > $1::bigint${filter} ORDER BY position DESC LIMIT 1)`,
    params,
  )
  const page = rows.filter((r) => !r.tail).map(toRecorded)
  const tail = rows.find((r) => r.tail)
  const full = opts.maxCount !== undefined && page.length >= opts.maxCount
  if (tail && !full && (page.length === 0 || BigInt(tail.position) > page[page.length - 1].position)) page.push(toRecorded(tail))
  return page
}

/**
 * At most `upTo` events after `after` of the prefixed streams, counted in the database: the
 * position index walked from `after` with the prefixes as a filter (prefixFilter's non-indexable
 * form: a tenant's prefixes on the stream-name index would visit every event the tenant ever had),
 * stopped by the LIMIT once `upTo` matched; no event data leaves the database.
 */
async function countAllSql(ctx: SqlStoreContext, opts: CountAllOptions): Promise<number> {
  if (!(opts.upTo > 0)) return 0
  const params: unknown[] = [String(opts.after ?? 0n), Math.floor(opts.upTo)]
  const filter = prefixFilter(params, opts.streamPrefixes)
  if (filter === null) return 0
  const { rows } = await ctx.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM events WHERE position > $1::bigint${filter} LIMIT $2) counted`,
    params,
  )
  return rows[0].n
}

/** The primary key read backwards from `before` (or the end): the newest events first. */
async function readAllBackwardsSql(ctx: SqlStoreContext, opts: ReadAllBackwardsOptions = {}): Promise<RecordedEvent[]> {
  const params: unknown[] = [opts.before === undefined ? null : String(opts.before), opts.maxCount ?? null]
  const filter = prefixFilter(params, opts.streamPrefixes)
  if (filter === null) return []
  const { rows } = await ctx.db.query<EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE ($1::bigint IS NULL OR position < $1::bigint)${filter} ORDER BY position DESC LIMIT $2`,
    params,
  )
  return rows.map(toRecorded)
}

function subscribeToAllSql(
  ctx: SqlStoreContext,
  opts: SubscribeOptions,
  handler: (event: RecordedEvent) => Promise<void>,
): Subscription {
  let closed = false
  let after = opts.after ?? 0n
  const napper = ctx.wakeups.napper()
  const sleep = () => napper.sleep(ctx.pollIntervalMs)

  const run = async () => {
    let readFailures = 0
    while (!closed) {
      let page: RecordedEvent[]
      try {
        page = await readAllSql(ctx, { after, maxCount: SUBSCRIPTION_PAGE, streamPrefixes: opts.streamPrefixes, tenantShard: opts.tenantShard })
        readFailures = 0
      } catch (err) {
        // A read can fail transiently (a dropped connection); give up only when it keeps failing.
        if (++readFailures >= MAX_READ_FAILURES) throw err
        await sleep()
        continue
      }
      const delivered = opts.decodePage && page.length > 0 ? await opts.decodePage(page) : page
      for (const event of delivered) {
        if (closed) return
        await handler(event)
        after = event.position
      }
      // Past what decodePage left out at the page's end too.
      if (page.length > 0 && !closed) after = page[page.length - 1].position
      if (page.length < SUBSCRIPTION_PAGE && !closed) await sleep()
    }
  }
  const running = run().catch((err: unknown) => {
    closed = true
    ctx.subscriptions.delete(subscription)
    opts.onError?.(err instanceof Error ? err : new Error(String(err)))
  })
  const subscription: Subscription = {
    async close() {
      closed = true
      napper.stop()
      ctx.subscriptions.delete(subscription)
      await running
    },
  }
  ctx.subscriptions.add(subscription)
  return subscription
}

async function readStreamSql(ctx: SqlStoreContext, streamName: string, opts: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
  const backwards = opts.direction === 'backwards'
  const params: unknown[] = [streamName, opts.maxCount ?? null]
  let from = ''
  if (opts.fromRevision !== undefined) {
    params.push(String(opts.fromRevision))
    from = ` AND revision ${backwards ? '<=' : '>='} $3::bigint`
  }
  const { rows } = await ctx.db.query<EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE stream_name = $1${from} ORDER BY revision ${backwards ? 'DESC' : 'ASC'} LIMIT $2`,
    params,
  )
  return rows.map(toRecorded)
}

async function readStreamsSql(ctx: SqlStoreContext, names: string[]): Promise<RecordedEvent[][]> {
  assertDistinctNames(names)
  if (names.length === 0) return []
  // The (stream_name, revision) unique index answers this as one index scan per name.
  const { rows } = await ctx.db.query<EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE stream_name = ANY($1::text[]) ORDER BY stream_name, revision`,
    [names],
  )
  const byName = new Map<string, RecordedEvent[]>(names.map((n) => [n, []]))
  for (const row of rows) byName.get(row.stream_name)?.push(toRecorded(row))
  return names.map((n) => byName.get(n)!)
}

export async function openSqlEventStore(db: SqlDatabase, options: { pollIntervalMs?: number } = {}): Promise<EventStore> {
  await migrateEventStore(db)
  const ctx: SqlStoreContext = { db, pollIntervalMs: options.pollIntervalMs ?? 50, wakeups: new Wakeups(), subscriptions: new Set() }

  return {
    async appendToStream(streamName, events, appendOptions = {}) {
      const result = await db.transaction((tx) => append(tx, streamName, events, appendOptions.expectedRevision ?? 'any'))
      if (events.length > 0) ctx.wakeups.wakeAll()
      return result
    },

    async appendToStreams(appends) {
      if (appends.length === 0) return []
      assertDistinctStreams(appends)
      const results = await db.transaction((tx) => appendMany(tx, appends))
      if (appends.some((a) => a.events.length > 0)) ctx.wakeups.wakeAll()
      return results
    },

    readStream: (streamName, opts) => readStreamSql(ctx, streamName, opts),
    readStreams: (names) => readStreamsSql(ctx, names),
    readAll: (opts) => readAllSql(ctx, opts),
    readAllBackwards: (opts) => readAllBackwardsSql(ctx, opts),
    countAll: (opts) => countAllSql(ctx, opts),
    subscribeToAll: (opts, handler) => subscribeToAllSql(ctx, opts, handler),

    /** Stops every subscription; the database belongs to the caller and stays open. */
    async close() {
      await Promise.all([...ctx.subscriptions].map((s) => s.close()))
    },
  }
}
