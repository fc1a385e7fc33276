// Properties of the employee decisions over random records: folding a decision reproduces the
// record, a repeated decision has the same ids, and the clock never decides twice.
import t from 'tap'
import fc from 'fast-check'
import type { InvitePolicy } from '../../schemas/invite-policy.ts'
import type { KomboEmployee } from '../../schemas/kombo.ts'
import { anEmployee, later } from '../../test/support/kombo-fixtures.ts'
import { EmployeeScenario, applied, ctxAt } from '../../test/support/employee-scenario.ts'
import { comparableEmployeeRecord, decideEmployeeClockEvents, decideEmployeeEvents, deepEqual } from './index.ts'

const dates = fc.constantFrom(null, '2025-06-01', '2026-01-01', '2026-02-01', '2026-02-15T09:30:00.000Z', '2026-04-01')
const text = fc.option(fc.constantFrom('a', 'b', 'Ada', 'x@example.com', ''), { nil: null })
const group = fc.record({ id: fc.constantFrom('g1', 'g2', 'g3'), name: fc.constantFrom('A', 'B'), type: fc.constantFrom('TEAM', 'DEPARTMENT', null) })

/** Random edits of one record: known fields, custom fields, unknown fields, removals. */
const edits = fc.record(
  {
    first_name: text,
    last_name: text,
    display_full_name: text,
    job_title: text,
    work_email: text,
    manager_id: fc.option(fc.constantFrom('emp-2', 'emp-3'), { nil: null }),
    groups: fc.option(fc.uniqueArray(group, { selector: (g) => g.id, maxLength: 3 }), { nil: null }),
    work_location_id: text,
    legal_entity_id: text,
    start_date: dates,
    termination_date: dates,
    employment_status: fc.constantFrom('ACTIVE', 'PENDING', 'INACTIVE', 'LEAVE', null),
    avatar: text,
    employee_number: text,
    custom_fields: fc.option(fc.dictionary(fc.constantFrom('shirt', 'desk'), fc.oneof(fc.string({ maxLength: 3 }), fc.integer())), { nil: null }),
    favourite_colour: fc.oneof(text, fc.constant(undefined)),
    remote_deleted_at: fc.constantFrom(null, '2026-01-20T00:00:00.000Z'),
  },
  { requiredKeys: [] },
)

const recordFrom = (edit: Record<string, unknown>, minutes: number): KomboEmployee => {
  const record: Record<string, unknown> = { ...anEmployee(), ...edit, changed_at: later(minutes) }
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key]
  return record as KomboEmployee
}

const nows = fc.constantFrom('2025-05-01T00:00:00.000Z', '2026-01-15T12:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z')
const policies = fc.constantFrom<InvitePolicy>({ mode: 'manual' }, { mode: 'immediate' }, { mode: 'on_start_date', daysBefore: 0 }, { mode: 'on_start_date', daysBefore: 20 })

t.test('folding the decided events onto the old state reproduces the incoming record', async (t) => {
  fc.assert(
    fc.property(fc.array(edits, { minLength: 1, maxLength: 5 }), nows, policies, (history, now, policy) => {
      const s = new EmployeeScenario(policy)
      history.forEach((edit, i) => {
        const record = recordFrom(edit, i)
        s.record(record, now)
        if (!deepEqual(comparableEmployeeRecord(s.state!.record), comparableEmployeeRecord(record))) {
          throw new Error(`record ${i} not reproduced`)
        }
      })
    }),
    { numRuns: 300 },
  )
  t.pass('300 random histories reproduced their records')
})

t.test('the same decision twice yields the same events and ids', async (t) => {
  fc.assert(
    fc.property(edits, edits, nows, policies, (first, second, now, policy) => {
      const ctx = ctxAt(now, policy)
      const state = applied(null, decideEmployeeEvents(null, recordFrom(first, 0), ctx))
      const a = decideEmployeeEvents(state, recordFrom(second, 1), ctx)
      const b = decideEmployeeEvents(state, recordFrom(second, 1), ctx)
      return deepEqual(a, b) && new Set(a.map((e) => e.id)).size === a.length
    }),
    { numRuns: 200 },
  )
  t.pass('200 random decisions repeated')
})

t.test('the clock is idempotent, and adds nothing right after a record decision', async (t) => {
  fc.assert(
    fc.property(fc.array(edits, { minLength: 1, maxLength: 3 }), nows, nows, policies, (history, now, tick, policy) => {
      const s = new EmployeeScenario(policy)
      history.forEach((edit, i) => s.record(recordFrom(edit, i), now))
      if (decideEmployeeClockEvents(s.state, ctxAt(now, policy)).length !== 0) return false
      s.clock(tick)
      return decideEmployeeClockEvents(s.state, ctxAt(tick, policy)).length === 0
    }),
    { numRuns: 300 },
  )
  t.pass('300 random clock ticks')
})

t.test('ids are unique across a whole random history', async (t) => {
  fc.assert(
    fc.property(fc.array(edits, { minLength: 1, maxLength: 6 }), fc.array(nows, { minLength: 6, maxLength: 6 }), policies, (history, ticks, policy) => {
      const s = new EmployeeScenario(policy)
      history.forEach((edit, i) => {
        s.record(recordFrom(edit, i), ticks[i])
        s.clock(ticks[(i + 1) % ticks.length])
      })
      return new Set(s.history.map((e) => e.id)).size === s.history.length
    }),
    { numRuns: 200 },
  )
  t.pass('200 random histories')
})
