// Baselines without kombo-sync logic: the SQL event store on a fresh embedded database, appending
// synthetic events (one stream per record, one append per record, as the processor does) and
// reading them back with readAll pages.
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import type { EventStore } from '../processors/eventstore/port.ts'
import type { SqlDatabase } from '../sql/database.ts'
import { tempDir } from './temp-dir.ts'

/** About the size of an EmployeeImported event's data (a full employee snapshot). */
function syntheticData(i: number): Record<string, unknown> {
  return {
    employeeId: `emp-${i}`,
    firstName: 'Synthetic',
    lastName: `Person ${i}`,
    displayName: `Synthetic Person ${i}`,
    jobTitle: 'Benchmark Engineer',
    workEmail: `person${i}@example.test`,
    startDate: '2024-01-01T00:00:00.000Z',
    terminationDate: null,
    employmentStatus: 'ACTIVE',
    managerId: `emp-${i >> 3}`,
    groups: [{ id: `team-${i % 12}`, name: `Team ${i % 12}` }],
    workLocationId: `loc-${i % 4}`,
    customFields: { costCenter: `CC-${i % 50}`, level: i % 7, remote: i % 2 === 0 },
    padding: 'x'.repeat(400),
  }
}

export interface RawStore {
  db: SqlDatabase
  store: EventStore
  close(): Promise<void>
}

export async function openRawStore(): Promise<RawStore> {
  const data = tempDir('kombo-sync-bench-raw-')
  const db = await openPgliteDatabase(join(data.dir, 'db'))
  const store = await openSqlEventStore(db)
  return {
    db,
    store,
    async close() {
      await store.close()
      await db.close()
      data.remove()
    },
  }
}

/** Appends `appends` single-stream appends of `eventsPerAppend` events; returns appends/s. */
export async function rawAppendRate(store: EventStore, appends: number, eventsPerAppend = 1, offset = 0): Promise<{ appendsPerSecond: number; eventsPerSecond: number; ms: number }> {
  const started = performance.now()
  for (let i = 0; i < appends; i++) {
    const events = Array.from({ length: eventsPerAppend }, (_, k) => ({ id: randomUUID(), type: k === 0 ? 'EmployeeImported' : 'SyntheticEvent', data: syntheticData(offset + i), metadata: { pollId: 'bench' } }))
    await store.appendToStream(`bench-${offset + i}`, events, { expectedRevision: 'no_stream' })
  }
  const ms = performance.now() - started
  return { appendsPerSecond: (appends / ms) * 1000, eventsPerSecond: ((appends * eventsPerAppend) / ms) * 1000, ms }
}

/** Reads the whole store in pages of `page` (the projector's subscription reads 500 at a time). */
export async function rawReadAllRate(store: EventStore, page = 500): Promise<{ events: number; eventsPerSecond: number; ms: number }> {
  const started = performance.now()
  let after: bigint | undefined
  let events = 0
  for (;;) {
    const rows = await store.readAll({ after, maxCount: page })
    if (rows.length === 0) break
    events += rows.length
    after = rows[rows.length - 1].position
  }
  const ms = performance.now() - started
  return { events, eventsPerSecond: (events / ms) * 1000, ms }
}
