// Bitemporal reads of one entity's stream (Fowler's "Bitemporal History"): two time axes.
//  - knownAt (recorded time): only events kombo-sync had decided by then (`decidedAt`).
//  - asOf (HR time, valid time): of those, the facts the HR system says were in effect then. An
//    attribute without a date of its own (title, teams, manager, email …) takes effect at its
//    change's source `changed_at`; employment dates (start, termination) are facts with their own
//    date, so the latest known dates apply to every instant, and a termination entered late still
//    makes the person leave on the date it names.
// Pure: the caller reads the streams; `history.ts` turns the states into documents.
import { decidedAt, type RecordedEvent } from '../../processors/eventstore/port.ts'
import { foldEmployee, type EmployeeState } from '../../processors/domain/employee-state.ts'
import { foldEntity, type EntityState } from '../../processors/domain/entity.ts'
import { dateField, instantOf } from '../../processors/domain/employment.ts'
import { accessBeginsAt } from '../../processors/domain/hr-dates.ts'
import type { EmployeeEvent, EntityEvent } from '../../schemas/events.ts'

export interface TimeAxes {
  /** HR time; null reads the state as kombo-sync served it at `knownAt` (today's views). */
  asOf: Date | null
  /** Recorded time: what kombo-sync knew then. */
  knownAt: Date
}

/** When the HR facts we hold start: the first snapshot's `changed_at`, and when kombo-sync first recorded the entity. */
export interface Provenance {
  /** The source `changed_at` of the first snapshot: attribute values before it are not known, only the earliest ones are shown. */
  knownSince: string
  /** When kombo-sync first recorded the entity (the first event's decision time). */
  firstRecordedAt: string
}

const asDomain = <T>(events: RecordedEvent[]) => events.map((e) => ({ type: e.type, data: e.data }) as T)
const validTime = (v: unknown): number | null => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : null)

/**
 * The HR instant an event's fact took effect: a deletion at the record's `remote_deleted_at`,
 * anything else at its `changedAt` (the source `changed_at`, or the date a clock event reached).
 */
export function hrTimeOf(event: { type: string; data: Record<string, unknown> }): number | null {
  if (event.type.endsWith('DeletedInSource')) return validTime(event.data.remote_deleted_at) ?? validTime(event.data.changedAt)
  return validTime(event.data.changedAt)
}

export const knownBy = (events: RecordedEvent[], knownAt: Date): RecordedEvent[] =>
  events.filter((e) => decidedAt(e).getTime() <= knownAt.getTime())

function provenanceOf(known: RecordedEvent[]): Provenance | null {
  const imported = known.find((e) => e.type.endsWith('Imported'))
  if (!imported) return null
  return { knownSince: new Date(hrTimeOf(imported) ?? decidedAt(imported).getTime()).toISOString(), firstRecordedAt: decidedAt(known[0]).toISOString() }
}

/** The events in effect at HR time `asOf`: the first snapshot always (the earliest knowledge), others once their HR time is reached. */
function inEffect(known: RecordedEvent[], asOf: Date): RecordedEvent[] {
  return known.filter((e) => e.type.endsWith('Imported') || (hrTimeOf(e) ?? Infinity) <= asOf.getTime())
}

export interface EmploymentPeriod {
  start: string | null
  termination: string | null
}

/**
 * The employments the known records describe, oldest first. A start date after the current
 * termination date opens a new employment (a rehire; Kombo keeps only the latest dates on the
 * record, so the earlier period is kept here); any other date change corrects the current one.
 */
export function employmentPeriods(known: RecordedEvent[]): EmploymentPeriod[] {
  const closed: EmploymentPeriod[] = []
  let current: EmploymentPeriod = { start: null, termination: null }
  for (const e of known) {
    const d = e.data as Record<string, unknown>
    if (e.type === 'EmployeeImported') {
      const snapshot = d.snapshot as Record<string, unknown>
      current = { start: dateField(snapshot, 'start_date'), termination: dateField(snapshot, 'termination_date') }
    } else if (e.type === 'EmployeeStartDateChanged') {
      const start = dateField(d, 'start_date')
      if (start && current.termination && instantOf(start) > instantOf(current.termination)) {
        closed.push(current)
        current = { start, termination: null }
      } else current = { ...current, start }
    } else if (e.type === 'EmployeeLeaveDateChanged') {
      current = { ...current, termination: dateField(d, 'termination_date') }
    }
  }
  return [...closed, current]
}

/** The employment that decides the status at `at`: the last one started by then (00:00 local on its start date), else the first (not started yet). */
function periodAt(periods: EmploymentPeriod[], at: Date, timeZone: string): EmploymentPeriod {
  let chosen = periods[0]
  for (const p of periods) if (p.start === null || accessBeginsAt(p.start, timeZone) <= at.getTime()) chosen = p
  return chosen
}

export interface EmployeeAt {
  state: EmployeeState
  /** The instant the document's status is evaluated at. */
  evaluatedAt: Date
  provenance: Provenance
}

export type EmployeeAtResult = { found: true; value: EmployeeAt } | { found: false; reason: 'unknown_then' | 'before_hr_records'; knownSince?: string }

/**
 * The employee on both axes. Not found when kombo-sync had no record by `knownAt`, or when `asOf`
 * lies before anything the HR records say about the person (before both their first start date
 * and the first snapshot). `timeZone`: the tenant's; start dates are local days (hr-dates.ts).
 */
export function employeeAt(stream: RecordedEvent[], axes: TimeAxes, timeZone: string): EmployeeAtResult {
  const known = knownBy(stream, axes.knownAt)
  const provenance = provenanceOf(known)
  const whole = foldEmployee(asDomain<EmployeeEvent>(known))
  if (!whole || !provenance) return { found: false, reason: 'unknown_then' }
  if (axes.asOf === null) return { found: true, value: { state: whole, evaluatedAt: axes.knownAt, provenance } }

  const asOf = axes.asOf
  const periods = employmentPeriods(known)
  const firstStart = periods[0].start
  const earliest = Math.min(Date.parse(provenance.knownSince), firstStart ? accessBeginsAt(firstStart, timeZone) : Infinity)
  if (asOf.getTime() < earliest) return { found: false, reason: 'before_hr_records', knownSince: new Date(earliest).toISOString() }

  const folded = foldEmployee(asDomain<EmployeeEvent>(inEffect(known, asOf)))!
  // The dates as known now, of the employment in effect then; the recorded leaving (clock state)
  // belongs to recorded time and is replaced by the period's own dates.
  const period = periodAt(periods, asOf, timeZone)
  const state: EmployeeState = {
    ...folded,
    record: { ...folded.record, start_date: period.start, termination_date: period.termination },
    left: null,
  }
  return { found: true, value: { state, evaluatedAt: asOf, provenance } }
}

export type EntityAtResult = { found: true; state: EntityState; provenance: Provenance } | { found: false }

/** A team, location … on both axes: before its first snapshot's `changed_at` the earliest known values stand (see `knownSince`). */
export function entityAt(stream: RecordedEvent[], axes: TimeAxes): EntityAtResult {
  const known = knownBy(stream, axes.knownAt)
  const provenance = provenanceOf(known)
  const events = axes.asOf === null ? known : inEffect(known, axes.asOf)
  const state = foldEntity(asDomain<EntityEvent>(events))
  if (!state || !provenance) return { found: false }
  return { found: true, state, provenance }
}
