// The change-log step of the projector: for each employee event of a batch, the employee's state
// before and after it (folded from the states the views keep, loaded before the views' own step
// moves them), turned into audit entries and written in the batch's transaction. So the change log
// shares the views' checkpoint: rebuilt with them, never ahead or behind, crash-consistent.
import type { RecordedEvent } from '../../processors/eventstore/port.ts'
import { evolveEmployee, type EmployeeState } from '../../processors/domain/employee-state.ts'
import type { EmployeeEvent } from '../../schemas/events.ts'
import { parseStreamName } from '../../schemas/streams.ts'
import type { ViewTransaction } from '../viewstore/port.ts'
import type { ProjectionSettings } from '../apply-events.ts'
import { changeEntryOf } from './change-entries.ts'
import { insertChanges, type RecordedChange } from './change-log-store.ts'

/** Must run before the views' step of the same batch: it reads the states as they were before it. */
export async function recordChangeLog(tx: ViewTransaction, events: RecordedEvent[], settings: ProjectionSettings): Promise<void> {
  const employees = new Map<string, Set<string>>() // tenant -> ids
  const parsed = events.map((event) => ({ event, stream: parseStreamName(event.streamName) }))
  for (const { stream } of parsed) {
    if (stream?.category !== 'employee') continue
    employees.set(stream.tenant, (employees.get(stream.tenant) ?? new Set()).add(stream.komboId))
  }
  if (employees.size === 0) return
  const states = new Map<string, EmployeeState | null>() // `${tenant}\u0000${id}`
  for (const [tenant, ids] of employees) {
    const found = await tx.loadStates(tenant, 'employee', [...ids])
    for (const id of ids) states.set(`${tenant}\u0000${id}`, (found.get(id)?.state as EmployeeState | undefined) ?? null)
  }
  const rows = new Map<string, RecordedChange[]>() // tenant -> rows
  for (const { event, stream } of parsed) {
    if (stream?.category !== 'employee') continue
    const key = `${stream.tenant}\u0000${stream.komboId}`
    const before = states.get(key) ?? null
    const after = evolveEmployee(before, { type: event.type, data: event.data } as EmployeeEvent)
    states.set(key, after)
    const entry = changeEntryOf(event, before, after, settings.timeZoneOf(stream.tenant))
    if (!entry) continue
    const list = rows.get(stream.tenant) ?? []
    list.push({ entry, position: event.position })
    rows.set(stream.tenant, list)
  }
  for (const [tenant, list] of rows) await insertChanges(tx.sql, tenant, list)
}
