// Statistics for tables that grow faster than anything else analyses them. PGlite runs PostgreSQL
// in single-user mode: there is no autovacuum, so nothing ever ANALYZEs an embedded database.
// Without statistics the planner takes `tenant = $1` to match 0.5 % of a table, and for a
// one-company install (every row the same tenant) it answered `tenant = $1 AND external_id =
// ANY($2)` by walking every row of the tenant through the (tenant, manager_id) index instead of
// probing the primary key: the view lookups of each projector batch grew with the company (30k
// employees: 3.1 s + 3.8 s of the sync's 38 s of SQL, 7–8× the 10k figure for 3× the statements).
// A PostgreSQL server has the same gap while a table is new: autovacuum wakes once a minute
// (autovacuum_naptime) and a 10k-employee initial sync is over in ~20 s, so its event store was
// read without statistics; the processor's read of a batch's streams (`stream_name = ANY($1)`,
// 200 streams, 1,000 of 100k events) was then estimated at 650k rows, a cost above
// jit_above_cost: JIT-compiled, 488 ms instead of 114 ms after ANALYZE on this machine (and for
// ever where autovacuum is off, as on some CI machines). This is the part of autovacuum both need:
// a table is analysed once it has some size and never was, and again each time it has doubled
// since, so statistics stay roughly
// right at a bounded cost (a 1M-row table is analysed ~17 times over its growth). The statistics
// target is 10, not PostgreSQL's 100: 3,000 sampled rows instead of 30,000, ~10× less time (13 vs
// 131 ms for 100k events embedded), and plenty to learn that one tenant is every row and how many
// streams there are. On a server too: at the server's target these looks took 10.6 s of the 41.5 s
// PostgreSQL spent on a 20k sync's statements (pg_stat_statements; ANALYZE events 740 ms each, about
// half of it the jsonb columns' statistics), ~9 % of the whole machine's CPU; the server's autovacuum
// analyses again with its own target once a tenth of a table has changed.
import type { SqlQueryable } from './database.ts'

/** Tables smaller than this are scanned cheaply whatever the plan; not worth an ANALYZE. */
export const MIN_PAGES_TO_ANALYZE = 16
/** How often, at most, the embedded database looks for tables that grew (a catalog query). */
export const ANALYZE_CHECK_INTERVAL_MS = 2_000
export const STATISTICS_TARGET = 10

/**
 * ANALYZEs every table of the current schema that is at least MIN_PAGES_TO_ANALYZE pages and was
 * never analysed, or has at least doubled in pages since it last was. Returns the tables analysed.
 * `db` is a transaction: the statistics target (STATISTICS_TARGET) and the lock timeout are set
 * for it alone.
 */
export async function analyzeGrownTables(db: SqlQueryable, options: { lockTimeoutMs?: number } = {}): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT quote_ident(c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
            LATERAL (SELECT pg_relation_size(c.oid) / current_setting('block_size')::int AS pages) s
      WHERE c.relkind = 'r' AND n.nspname = current_schema() AND s.pages >= $1
        AND (c.reltuples < 0 OR s.pages >= 2 * greatest(c.relpages, 1))
      ORDER BY c.relname`,
    [MIN_PAGES_TO_ANALYZE],
  )
  if (rows.length === 0) return []
  await db.query(`SET LOCAL default_statistics_target = ${STATISTICS_TARGET}`)
  // Another process (a role, autovacuum) analysing the same table holds the lock we need: its
  // statistics will do, so give up quickly rather than queue behind it.
  if (options.lockTimeoutMs !== undefined) await db.query(`SET LOCAL lock_timeout = ${Number(options.lockTimeoutMs)}`)
  for (const { name } of rows) await db.query(`ANALYZE ${name}`)
  return rows.map((r) => r.name.replace(/^"|"$/g, ''))
}

/**
 * Decides when to look for grown tables: at most once per interval, after a transaction (the
 * writes come in transactions), never two looks at once.
 */
export class AnalyzeSchedule {
  private lastCheck = 0
  private running = false

  constructor(
    private readonly intervalMs = ANALYZE_CHECK_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a look is due now; if so, the caller runs it and calls `done()` after. */
  due(): boolean {
    if (this.running || this.now() - this.lastCheck < this.intervalMs) return false
    this.running = true
    return true
  }

  done(): void {
    this.running = false
    this.lastCheck = this.now()
  }

  private look: Promise<unknown> = Promise.resolve()

  /**
   * Starts `look` if one is due, in the background. Statistics are an optimisation: a look that
   * fails (a lock timeout, the database closing) is only tried again when the next one is due.
   */
  runIfDue(look: () => Promise<unknown>): void {
    if (!this.due()) return
    this.look = look()
      .catch(() => [])
      .finally(() => this.done())
  }

  /** Settles once the look in flight, if any, has ended (a database closing waits for it). */
  idle(): Promise<unknown> {
    return this.look
  }
}
