// Projection rebuild: drop the views and project N events again, against the store's raw readAll
// rate on the same database: embedded (PGlite), and on PostgreSQL when the bench has a server. The
// fixture also measures the processor alone (no HTTP, no change log, no projector running): a
// company's records folded into the store through processChanges.
// Events beyond what the company's import produces are job-title changes decided by the same
// domain functions and bulk-inserted (fixture set-up, not measured), so N can reach 1M quickly.
import { join } from 'node:path'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import { openSqlDeadLetterStore } from '../producers/changelog/sql-dead-letters.ts'
import { openSqlViewStore } from '../projections/viewstore/sql.ts'
import { processChanges } from '../processors/process-changes.ts'
import { StreamStateCache } from '../processors/stream-state-cache.ts'
import { decideEmployeeEvents, evolveEmployee, type EmployeeState } from '../processors/domain/employee.ts'
import { SimulatedCompany } from '../simulator/index.ts'
import { komboResources, type KomboEmployee } from '../schemas/kombo.ts'
import { changeKey, parseChangeEnvelope } from '../schemas/envelope.ts'
import { employeeStreamName, parseStreamName } from '../schemas/streams.ts'
import type { EmployeeEvent } from '../schemas/events.ts'
import type { ConsumedChange } from '../producers/changelog/port.ts'
import type { SqlDatabase } from '../sql/database.ts'
import { openPostgresDatabase } from '../sql/postgres.ts'
import { throwawayDatabase } from './production.ts'
import type { EventStore } from '../processors/eventstore/port.ts'
import { rebuildViews } from '../runtime/admin.ts'
import type { Stores } from '../runtime/stores.ts'
import { createLogger } from '../runtime/logger.ts'
import { rawReadAllRate } from './raw-event-store.ts'
import { tempDir } from './temp-dir.ts'
import { peakRssMb, type ResultRow } from './report.ts'
import { sizeLabel } from './harness.ts'
import { settingsWith } from '../test/support/tenant-settings.ts'

const TENANT = 'demo'
const POLICY = { mode: 'on_start_date', daysBefore: 7 } as const

/** Every record of a seeded company as the change log would hand them to the processor. */
export function companyChanges(employees: number, now: Date): ConsumedChange[] {
  const company = new SimulatedCompany(7, { employees, teams: 12, locations: 4 }, () => now)
  const changes: ConsumedChange[] = []
  // Reference data first, as a first poll would likely deliver it.
  for (const resource of [...komboResources].sort((a) => (a === 'employees' ? 1 : -1))) {
    for (const record of company.list(resource, { includeDeleted: true })) {
      const value = { tenant: TENANT, integrationId: 'demo', resource, fetchedAt: now.toISOString(), pollId: 'bench', record }
      const raw = Buffer.from(JSON.stringify(value))
      changes.push({ resource, key: changeKey(TENANT, record.id), partition: 0, offset: String(changes.length), value, raw })
    }
  }
  return changes
}

/** Folds the changes through the real processor; returns records/s. */
export async function processOnly(db: SqlDatabase, store: EventStore, changes: ConsumedChange[], now: Date): Promise<{ recordsPerSecond: number; ms: number }> {
  const deadLetters = await openSqlDeadLetterStore(db)
  const cache = new StreamStateCache() // as the processor role keeps one
  const started = performance.now()
  for (let i = 0; i < changes.length; i += 100) {
    await processChanges(changes.slice(i, i + 100), { store, deadLetters, tenantSettingsOf: () => settingsWith(POLICY), now: () => now, cache })
  }
  const ms = performance.now() - started
  return { recordsPerSecond: (changes.length / ms) * 1000, ms }
}

/** Tops the store up to `target` events with job-title changes (multi-row inserts, not measured). */
export async function topUp(db: SqlDatabase, store: EventStore, target: number, now: Date): Promise<number> {
  const states = new Map<string, { state: EmployeeState | null; revision: bigint; record: KomboEmployee }>()
  let total = 0
  let after: bigint | undefined
  for (;;) {
    const page = await store.readAll({ after, maxCount: 5000 })
    if (page.length === 0) break
    for (const e of page) {
      total++
      const stream = parseStreamName(e.streamName)
      if (stream?.category !== 'employee') continue
      const entry = states.get(stream.komboId) ?? { state: null, revision: -1n, record: undefined as unknown as KomboEmployee }
      entry.state = evolveEmployee(entry.state, { type: e.type, data: e.data } as EmployeeEvent)
      entry.revision = e.revision
      states.set(stream.komboId, entry)
    }
    after = page[page.length - 1].position
  }
  const ids = [...states.keys()].filter((id) => states.get(id)!.state)
  for (const id of ids) {
    const entry = states.get(id)!
    entry.record = entry.state!.record as unknown as KomboEmployee
  }
  let rows: unknown[][] = []
  const flush = async () => {
    if (!rows.length) return
    const params: unknown[] = []
    const values = rows.map((r) => {
      params.push(...r)
      const b = params.length - 6
      return `($${b + 1}, $${b + 2}::bigint, $${b + 3}::uuid, $${b + 4}, $${b + 5}::jsonb, $${b + 6}::jsonb)`
    })
    await db.query(`INSERT INTO events (stream_name, revision, event_id, type, data, metadata) VALUES ${values.join(', ')}`, params)
    rows = []
  }
  const base = now.getTime()
  for (let k = 0; total < target && ids.length > 0; k++) {
    const id = ids[k % ids.length]
    const entry = states.get(id)!
    const changedAt = new Date(base + 1000 + k).toISOString()
    const record = { ...entry.record, job_title: `Title ${k}`, changed_at: changedAt } as KomboEmployee
    const decided = decideEmployeeEvents(entry.state, record, { tenant: TENANT, now: new Date(changedAt), invitePolicy: POLICY, timeZone: 'UTC' })
    for (const e of decided) {
      entry.revision += 1n
      entry.state = evolveEmployee(entry.state, e as EmployeeEvent)
      rows.push([employeeStreamName(TENANT, id), String(entry.revision), e.id, e.type, JSON.stringify(e.data), JSON.stringify({ changedAt, pollId: 'bench', decidedAt: changedAt })])
      total++
    }
    entry.record = record
    if (rows.length >= 1000) await flush()
  }
  await flush()
  return total
}

/**
 * The rebuild rows: embedded, and with `databaseUrl` also on a throw-away PostgreSQL database (the
 * production store), each against the raw readAll of its own store in the same run.
 */
export async function benchRebuild(targets: number[], options: { databaseUrl?: string } = {}): Promise<ResultRow[]> {
  const rows: ResultRow[] = []
  for (const target of targets) {
    const data = tempDir('kombo-sync-bench-rebuild-')
    const db = await openPgliteDatabase(join(data.dir, 'db'))
    try {
      rows.push(...(await rebuildRows(db, target, 'embedded')))
    } finally {
      await db.close()
      data.remove()
    }
    if (!options.databaseUrl) continue
    const pgDb = await throwawayDatabase(options.databaseUrl)
    try {
      const opened = await openPostgresDatabase(pgDb.url)
      try {
        rows.push(...(await rebuildRows(opened, target, 'PostgreSQL')))
      } finally {
        await opened.close()
      }
    } finally {
      await pgDb.drop()
    }
  }
  return rows
}

/** The fixture (processor only row, embedded only) and the rebuild row on one database. */
async function rebuildRows(db: SqlDatabase, target: number, storeLabel: 'embedded' | 'PostgreSQL'): Promise<ResultRow[]> {
  const rows: ResultRow[] = []
  const store = await openSqlEventStore(db)
  try {
    const now = new Date()
    // A company whose import gives roughly a fifth of the target (at least 200 employees).
    const employees = Math.max(200, Math.min(20_000, Math.round(target / 25)))
    const changes = companyChanges(employees, now)
    const processed = await processOnly(db, store, changes, now)
    if (storeLabel === 'embedded') {
      rows.push({
        benchmark: 'processor only',
        scenario: `${changes.length} records (${sizeLabel(employees)} employees), embedded store`,
        value: processed.recordsPerSecond,
        unit: 'records/s',
        peakRssMb: peakRssMb(),
        note: 'processChanges in batches of 100, no HTTP, no change log, no projector running',
      })
    }
    process.stderr.write(`rebuild fixture (${storeLabel}): ${changes.length} records processed; topping up to ${target} events\n`)
    const events = await topUp(db, store, target, now)
    // The fixture's bulk inserts leave PostgreSQL without statistics (this server may run no autovacuum).
    if (storeLabel === 'PostgreSQL') await db.query('VACUUM ANALYZE')
    process.stderr.write(`rebuild fixture (${storeLabel}): ${events} events; rebuilding\n`)
    const views = await openSqlViewStore(db)
    const raw = await rawReadAllRate(store)
    const started = performance.now()
    const cpuBefore = process.cpuUsage()
    let applied = 0
    const onApplied = ({ events: batch }: { events: number }) => {
      applied += batch
      const s = (performance.now() - started) / 1000
      process.stderr.write(`rebuild (${storeLabel}): ${applied}/${events} events in ${s.toFixed(0)} s (${(applied / s).toFixed(0)} events/s)\n`)
    }
    await rebuildViews({ eventStore: store, views } as unknown as Stores, createLogger('silent'), { onApplied })
    const ms = performance.now() - started
    const cpu = process.cpuUsage(cpuBefore)
    const cpuS = (cpu.user + cpu.system) / 1e6
    const counts = await views.counts()
    rows.push({
      benchmark: 'projection rebuild',
      scenario: `${sizeLabel(events)} events (${counts.users} users), ${storeLabel}`,
      value: (events / ms) * 1000,
      unit: 'events/s',
      baseline: { label: 'raw readAll, pages of 500', value: raw.eventsPerSecond, unit: 'events/s' },
      peakRssMb: peakRssMb(),
      // On PostgreSQL the server works in its own process: this process's CPU against the wall
      // shows how much of the rebuild waited on the server (the fold and the writes do not overlap).
      note: `rebuild took ${(ms / 1000).toFixed(1)} s; this process's CPU ${cpuS.toFixed(1)} s (${Math.round((cpuS * 100_000) / ms)} % of the wall)`,
    })
  } finally {
    await store.close()
  }
  return rows
}
