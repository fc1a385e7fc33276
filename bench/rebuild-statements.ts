// `npx tsx bench/rebuild-statements.ts [events] [--keep] [--profile FILE] [--digest]`: where a projection
// rebuild's time goes, per SQL statement (and, with --profile, a CPU profile of the rebuild window
// only: the inspector's profiler, what `node --cpu-prof` writes, without the fixture and readAll). Builds (or reuses, with --keep, from the OS temp dir) the rebuild bench's
// fixture, then rebuilds the views with every statement timed by its text, and prints the
// statements by total time next to the raw readAll of the same store. A profiling tool, not a
// bench row: the timings include the wrapper's overhead and a loaded machine's noise. --digest:
// after the measurement, the views' digest (projections/views-digest.ts) and an md5 of each view
// table's rows as PostgreSQL prints them, to check that a change writes the very same views.
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import { openSqlViewStore } from '../projections/viewstore/sql.ts'
import { viewsDigest } from '../projections/views-digest.ts'
import { rebuildViews } from '../runtime/admin.ts'
import { createLogger } from '../runtime/logger.ts'
import type { Stores } from '../runtime/stores.ts'
import type { SqlDatabase, SqlQueryable } from '../sql/database.ts'
import { companyChanges, processOnly, topUp } from './rebuild.ts'
import { rawReadAllRate } from './raw-event-store.ts'

const target = Number(process.argv[2] ?? 100_000)
const keep = process.argv.includes('--keep')
const digest = process.argv.includes('--digest')
const profileAt = process.argv.indexOf('--profile')
const profileFile = profileAt > 0 ? process.argv[profileAt + 1] : null
const cached = join(tmpdir(), `kombo-sync-rebuild-fixture-${target}`)
const work = join(tmpdir(), `kombo-sync-rebuild-statements-${process.pid}`)

if (!existsSync(cached) || !keep) {
  rmSync(cached, { recursive: true, force: true })
  const db = await openPgliteDatabase(cached)
  const store = await openSqlEventStore(db)
  const now = new Date()
  const changes = companyChanges(Math.max(200, Math.min(20_000, Math.round(target / 25))), now)
  await processOnly(db, store, changes, now)
  await topUp(db, store, target, now)
  await store.close()
  await db.close()
}
cpSync(cached, work, { recursive: true })

// Wall time includes waiting for the database's turn (the store's reads wait behind the view
// transactions); CPU time (process-wide, so approximate) is what the statement itself costs.
const timings = new Map<string, { n: number; ms: number; cpuMs: number }>()
const cpuMsNow = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const timed = (q: SqlQueryable, label = ''): SqlQueryable => ({
  async query(text, params) {
    const started = performance.now()
    const cpu = cpuMsNow()
    try {
      return await q.query(text, params)
    } finally {
      time(label + text.replace(/\s+/g, ' ').slice(0, 90), performance.now() - started, cpuMsNow() - cpu)
    }
  },
})
const raw = await openPgliteDatabase(work)
function time(key: string, ms: number, cpuMs: number) {
  const t = timings.get(key) ?? { n: 0, ms: 0, cpuMs: 0 }
  t.n++
  t.ms += ms
  t.cpuMs += cpuMs
  timings.set(key, t)
}
// The commit is no statement of ours: timed from the end of the transaction's function to its end.
const db: SqlDatabase = {
  ...raw,
  ...timed(raw),
  async transaction(fn) {
    let done = 0
    let doneCpu = 0
    const result = await raw.transaction(async (tx) => {
      const r = await fn(timed(tx))
      done = performance.now()
      doneCpu = cpuMsNow()
      return r
    })
    time('COMMIT (the view transaction, after its statements)', performance.now() - done, cpuMsNow() - doneCpu)
    return result
  },
  exec: (s) => raw.exec(s),
  close: () => raw.close(),
}
// The rebuild's own store reads the same database, timed as "store:" (the raw readAll below is not).
const storeDb: SqlDatabase = { ...raw, ...timed(raw, 'store: ') }
const store = await openSqlEventStore(storeDb)
const rawStore = await openSqlEventStore(raw)
const views = await openSqlViewStore(db)
// CPU seconds next to wall seconds: on the shared machine the wall time swings with the load.
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since)
  return (u.user + u.system) / 1e6
}
const readCpu = process.cpuUsage()
const read = await rawReadAllRate(rawStore)
const readCpuS = cpuSeconds(readCpu)
timings.clear()
const session = new Session()
if (profileFile) {
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
}
const rebuildCpu = process.cpuUsage()
const started = performance.now()
const { events } = await rebuildViews({ eventStore: store, views } as unknown as Stores, createLogger('silent'))
const ms = performance.now() - started
const rebuildCpuS = cpuSeconds(rebuildCpu)
if (profileFile) {
  const { profile } = await session.post('Profiler.stop')
  writeFileSync(profileFile, JSON.stringify(profile))
  session.disconnect()
}
const statements = [...timings].sort((a, b) => b[1].cpuMs - a[1].cpuMs)
const inSql = statements.reduce((s, [, t]) => s + t.ms, 0)
const inSqlCpu = statements.reduce((s, [, t]) => s + t.cpuMs, 0)
process.stdout.write(`rebuild: ${events} events in ${(ms / 1000).toFixed(1)} s (${((events / ms) * 1000).toFixed(0)} events/s); raw readAll ${read.eventsPerSecond.toFixed(0)} events/s (${(read.ms / 1000).toFixed(1)} s); ratio ${((events / ms) * 1000 / read.eventsPerSecond).toFixed(2)}\n`)
process.stdout.write(`CPU: rebuild ${rebuildCpuS.toFixed(1)} s, raw readAll ${readCpuS.toFixed(1)} s; ratio by CPU ${(readCpuS / rebuildCpuS).toFixed(2)}\n`)
process.stdout.write(`in SQL statements: ${(inSql / 1000).toFixed(1)} s of ${(ms / 1000).toFixed(1)} s wall, ${(inSqlCpu / 1000).toFixed(1)} s of ${rebuildCpuS.toFixed(1)} s CPU\n`)
process.stdout.write('    wall      CPU  count  statement\n')
for (const [text, t] of statements.slice(0, 20)) process.stdout.write(`${(t.ms / 1000).toFixed(2).padStart(8)} ${(t.cpuMs / 1000).toFixed(2).padStart(8)} ${String(t.n).padStart(6)}  ${text}\n`)
if (digest) {
  process.stdout.write(`views digest: ${await viewsDigest(raw)}\n`)
  for (const [table, order] of [['view_users', 'tenant, external_id'], ['view_entity_states', 'tenant, category, id'], ['view_teams', 'tenant, id'], ['view_locations', 'tenant, id'], ['view_hr_records', 'tenant, kind, id'], ['audit_changes', 'tenant, position']]) {
    const { rows } = await raw.query<{ n: string; md5: string }>(`SELECT count(*) AS n, md5(string_agg(t::text, E'\\n' ORDER BY ${order})) AS md5 FROM ${table} t`)
    process.stdout.write(`  ${table}: ${rows[0].n} rows, md5 ${rows[0].md5}\n`)
  }
}
await store.close()
await raw.close()
rmSync(work, { recursive: true, force: true })
