// The audit change log on PostgreSQL: one page of `GET /changes` (the reader the route uses) over
// a table of N entries, per query shape, against a point read of one user row (the `GET
// /users/:id` query) on the same database in the same run. The entries are generated in SQL,
// shaped as the projection writes them (fixture set-up, not measured): projecting N events through
// the projector first would take minutes and measure the rebuild (bench/rebuild.ts) instead.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { openPostgresDatabase } from '../sql/postgres.ts'
import { openSqlViewStore } from '../projections/viewstore/sql.ts'
import { openChangeLogReader, type ChangeQuery } from '../projections/audit/change-log-store.ts'
import type { SqlDatabase } from '../sql/database.ts'
import { peakRssMb, type ResultRow } from './report.ts'
import { sizeLabel } from './harness.ts'

const TENANT = 'demo'
const USERS = 10_000
const RUNS = 30

async function withThrowawayDatabase<T>(adminUrl: string, fn: (db: SqlDatabase) => Promise<T>): Promise<T> {
  const name = `kombo_sync_bench_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const db = await openPostgresDatabase(url.toString())
  try {
    return await fn(db)
  } finally {
    await db.close()
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}

/** N entries over ~a year of HR time: mostly title changes, 2 % deactivations and reactivations, a third also moving teams. */
async function fill(db: SqlDatabase, entries: number): Promise<void> {
  for (let from = 1; from <= entries; from += 100_000) {
    const to = Math.min(entries, from + 99_999)
    await db.query(
      `INSERT INTO audit_changes (tenant, position, user_id, event_id, type, at, recorded_at, fields, changes, cause)
       SELECT $1, g, 'emp-' || (g % $2), md5(g::text),
         CASE WHEN g % 100 = 0 THEN 'UserDeactivated' WHEN g % 100 = 1 THEN 'UserReactivated' ELSE 'UserUpdated' END,
         timestamptz '2025-01-01T00:00:00Z' + g * (interval '365 days' / $5::int),
         timestamptz '2025-01-01T00:00:00Z' + g * (interval '365 days' / $5::int) + (g % 7) * interval '1 hour',
         CASE WHEN g % 100 IN (0, 1) THEN ARRAY['status', 'deactivationReason'] WHEN g % 3 = 0 THEN ARRAY['jobTitle', 'teams'] ELSE ARRAY['jobTitle'] END,
         jsonb_build_array(jsonb_build_object('field', 'jobTitle', 'before', 'Title ' || (g - 1), 'after', 'Title ' || g)),
         jsonb_build_object('kind', 'poll', 'pollId', 'bench-' || (g / 100))
       FROM generate_series($3::bigint, $4::bigint) AS g`,
      [TENANT, USERS, from, to, entries],
    )
  }
  await db.query('ANALYZE audit_changes')
}

async function medianMs(fn: () => Promise<unknown>): Promise<{ median: number; p99: number }> {
  for (let i = 0; i < 3; i++) await fn() // warm the plan cache and the buffers
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now()
    await fn()
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  return { median: times[Math.floor(times.length / 2)], p99: times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)] }
}

export async function benchChangeLog(sizes: number[], adminUrl: string): Promise<ResultRow[]> {
  const rows: ResultRow[] = []
  for (const entries of sizes) {
    await withThrowawayDatabase(adminUrl, async (db) => {
      const views = await openSqlViewStore(db) // creates audit_changes with the projection's indexes
      await db.query(`INSERT INTO view_users (tenant, external_id, doc, status) VALUES ($1, 'emp-1', '{"externalId":"emp-1"}', 'active')`, [TENANT])
      process.stderr.write(`change-log fixture: ${entries} entries …\n`)
      await fill(db, entries)
      const log = openChangeLogReader(db)
      const point = await medianMs(() => views.getUser(TENANT, 'emp-1'))
      const base = { axis: 'hr', limit: 50 } as const
      // A cursor half-way through the log: a deep page costs what the first one does.
      const middle = new Date(Date.parse('2025-01-01T00:00:00Z') + 182 * 86_400_000).toISOString()
      const deep = (await log.listChanges(TENANT, { ...base, from: middle })).next!
      const march = { from: '2025-03-01T00:00:00Z', to: '2025-04-01T00:00:00Z' }
      const shapes: Array<[string, Partial<ChangeQuery>]> = [
        ['first page', {}],
        ['a page half-way (cursor)', { cursor: deep }],
        ['deactivations in March (type, from, to)', { type: 'UserDeactivated', ...march }],
        ['job-title changes in March (field, from, to)', { field: 'jobTitle', ...march }],
        ['one user (userId)', { userId: 'emp-4242' }],
        ['recorded time in March (axis=recorded)', { axis: 'recorded', ...march }],
      ]
      for (const [name, query] of shapes) {
        let count = 0
        const timing = await medianMs(async () => (count = (await log.listChanges(TENANT, { ...base, ...query })).data.length))
        rows.push({
          benchmark: 'change log page',
          scenario: `${name}, 50 per page, ${sizeLabel(entries)} entries, PostgreSQL`,
          value: timing.median,
          unit: 'ms',
          baseline: { label: 'one user row by key', value: point.median, unit: 'ms' },
          peakRssMb: peakRssMb(),
          note: `median of ${RUNS}, p99 ${timing.p99.toFixed(2)} ms; ${count} entries on the page; lower is better`,
        })
      }
    })
  }
  return rows
}
