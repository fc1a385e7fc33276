// The change-log step of the projector: for each employee event of a batch, the employee's state
// before and after it — observed while the views' step folds the batch, from the same states it
// loaded (one read and one fold per batch, not two) — turned into audit entries and written in the
// batch's transaction. So the change log shares the views' checkpoint: rebuilt with them, never
// ahead or behind, crash-consistent.
import type { EmployeeState } from '../../processors/domain/employee-state.ts'
import type { FoldObserver, ProjectionSettings } from '../apply-events.ts'
import { changeEntryOf } from './change-entries.ts'
import { insertChanges, type RecordedChange } from './change-log-store.ts'

/** The change log of one batch: collect while folding, then one multi-row insert per tenant. */
export function changeLogOf(settings: ProjectionSettings): FoldObserver {
  const rows = new Map<string, RecordedChange[]>() // tenant -> rows
  return {
    observe(tenant, category, event, before, after) {
      if (category !== 'employee') return
      const entry = changeEntryOf(event, before as EmployeeState | null, after as EmployeeState, settings.timeZoneOf(tenant))
      if (!entry) return
      const list = rows.get(tenant)
      if (list) list.push({ entry, position: event.position })
      else rows.set(tenant, [{ entry, position: event.position }])
    },
    async write(tx) {
      for (const [tenant, list] of rows) await insertChanges(tx.sql, tenant, list)
    },
  }
}
