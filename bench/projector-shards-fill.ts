// The fixture of the projector-shards bench: several tenants' first imports folded into a
// PostgreSQL event store through the real processor (processChanges, with the personal-data
// encryption the roles use, so event rows have their production size), and the same records
// published to the SQL change log (so change_log rows have theirs too). No Kafka: the bench
// measures projection, and the sizes are what the 10M-employee estimate needs.
import { SimulatedCompany } from '../simulator/index.ts'
import { komboResources } from '../schemas/kombo.ts'
import { changeKey, type ChangeEnvelope } from '../schemas/envelope.ts'
import { projectedStreamPrefixes } from '../projections/projection.ts'
import { openPostgresDatabase } from '../sql/postgres.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import { openSqlPersonalDataKeys } from '../processors/eventstore/personal-data-keys.ts'
import { withPersonalDataEncryption } from '../processors/eventstore/encrypting.ts'
import { openSqlDeadLetterStore } from '../producers/changelog/sql-dead-letters.ts'
import { openSqlChangeLog } from '../producers/changelog/sql.ts'
import { openSqlViewStore } from '../projections/viewstore/sql.ts'
import { processChanges } from '../processors/process-changes.ts'
import { StreamStateCache } from '../processors/stream-state-cache.ts'
import type { ConsumedChange } from '../producers/changelog/port.ts'
import type { SqlQueryable } from '../sql/database.ts'
import { settingsWith } from '../test/support/tenant-settings.ts'

const POLICY = { mode: 'on_start_date', daysBefore: 7 } as const
const BATCH = 100

export const tenantIds = (count: number): string[] => Array.from({ length: count }, (_, i) => `tenant-${String(i).padStart(2, '0')}`)

/** One tenant's company, every record (deleted ones too), reference data before employees. */
function tenantChanges(tenant: string, seed: number, employees: number, now: Date): ConsumedChange[] {
  const company = new SimulatedCompany(seed, { employees, teams: 12, locations: 4 }, () => now)
  const changes: ConsumedChange[] = []
  for (const resource of [...komboResources].sort((a) => (a === 'employees' ? 1 : -1))) {
    for (const record of company.list(resource, { includeDeleted: true })) {
      const value = { tenant, integrationId: tenant, resource, fetchedAt: now.toISOString(), pollId: 'bench', record }
      changes.push({ resource, key: changeKey(tenant, record.id), partition: 0, offset: String(changes.length), value, raw: Buffer.from(JSON.stringify(value)) })
    }
  }
  return changes
}

/** Batches of BATCH records, tenants taking turns (a shared change log interleaves them). */
function interleaved(perTenant: ConsumedChange[][]): ConsumedChange[][] {
  const batches: ConsumedChange[][] = []
  for (let at = 0; perTenant.some((c) => at < c.length); at += BATCH) {
    for (const changes of perTenant) if (at < changes.length) batches.push(changes.slice(at, at + BATCH))
  }
  return batches
}

export interface Filled {
  records: number
  employees: number
  events: number
  employeeEvents: number
  /** The last position a projector must reach (the last event of a projected stream). */
  lastPosition: bigint
  processSeconds: number
}

/** Fills the (empty) database at `url` with `tenants` × `employees` first imports. */
export async function fillStore(url: string, plan: { tenants: number; employees: number }, now: Date): Promise<Filled> {
  const db = await openPostgresDatabase(url)
  try {
    const raw = await openSqlEventStore(db)
    const store = withPersonalDataEncryption(raw, await openSqlPersonalDataKeys(db))
    const deadLetters = await openSqlDeadLetterStore(db)
    const changeLog = await openSqlChangeLog(db)
    await openSqlViewStore(db) // the (empty) view tables: every copy starts with them
    const perTenant = tenantIds(plan.tenants).map((tenant, i) => tenantChanges(tenant, 101 + i, plan.employees, now))
    const cache = new StreamStateCache() // as the processor role keeps one
    const started = performance.now()
    let records = 0
    for (const batch of interleaved(perTenant)) {
      await changeLog.publish(batch.map((c) => c.value as ChangeEnvelope))
      await processChanges(batch, { store, deadLetters, tenantSettingsOf: () => settingsWith(POLICY), now: () => now, cache })
      records += batch.length
      if (records % 5000 < BATCH) process.stderr.write(`projector-shards fixture: ${records} records processed\n`)
    }
    const processSeconds = (performance.now() - started) / 1000
    const counts = await countEvents(db)
    await changeLog.close()
    await store.close()
    return { records, employees: plan.tenants * plan.employees, ...counts, processSeconds }
  } finally {
    await db.close()
  }
}

async function countEvents(db: SqlQueryable): Promise<{ events: number; employeeEvents: number; lastPosition: bigint }> {
  const params = projectedStreamPrefixes
  const filter = params.map((_, i) => `starts_with(stream_name, $${i + 1})`).join(' OR ')
  const { rows } = await db.query<{ events: string; employee_events: string; last: string | null }>(
    `SELECT count(*) AS events, count(*) FILTER (WHERE starts_with(stream_name, 'employee-')) AS employee_events,
            (SELECT max(position) FROM events WHERE ${filter}) AS last
       FROM events`,
    params,
  )
  return { events: Number(rows[0].events), employeeEvents: Number(rows[0].employee_events), lastPosition: BigInt(rows[0].last ?? 0) }
}

export interface TableSize {
  table: string
  rows: number
  /** pg_total_relation_size: heap, TOAST and indexes. */
  bytes: number
}

const SIZED = ['events', 'change_log', 'personal_data_keys', 'view_users', 'view_entity_states', 'view_teams', 'view_locations', 'view_hr_records', 'audit_changes']

/** Rows and on-disk bytes (indexes and TOAST included) of the tables that grow with employees. */
export async function tableSizes(db: SqlQueryable): Promise<{ tables: TableSize[]; databaseBytes: number }> {
  // Without VACUUM ANALYZE the visibility map and free space are not settled; sizes are still
  // what is on disk, which is what a deployment pays for.
  const tables: TableSize[] = []
  for (const table of SIZED) {
    const { rows } = await db.query<{ rows: string; bytes: string | null }>(
      `SELECT (SELECT count(*) FROM ${table}) AS rows, pg_total_relation_size(to_regclass($1)) AS bytes`,
      [table],
    )
    tables.push({ table, rows: Number(rows[0].rows), bytes: Number(rows[0].bytes ?? 0) })
  }
  const { rows } = await db.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes')
  return { tables, databaseBytes: Number(rows[0].bytes) }
}
