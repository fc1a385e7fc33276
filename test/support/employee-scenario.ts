// Given/when/then helpers for employee decisions: feed records and clock ticks, keep the folded state.
import { EmployeeEvent } from '../../schemas/events.ts'
import type { InvitePolicy } from '../../schemas/invite-policy.ts'
import type { KomboEmployee } from '../../schemas/kombo.ts'
import {
  decideEmployeeClockEvents,
  decideEmployeeEvents,
  evolveEmployee,
  type DecidedEvent,
  type EmployeeState,
} from '../../processors/domain/index.ts'

export const tenant = 'acme'

export const ctxAt = (now: string, invitePolicy: InvitePolicy = { mode: 'manual' }, timeZone = 'UTC') => ({ tenant, now: new Date(now), invitePolicy, timeZone })

export const applied = (state: EmployeeState | null, events: readonly EmployeeEvent[]): EmployeeState | null =>
  events.reduce<EmployeeState | null>(evolveEmployee, state)

export const typesOf = (events: readonly { type: string }[]) => events.map((e) => e.type)

/** An employee's history, advanced one record or clock tick at a time. */
export class EmployeeScenario {
  state: EmployeeState | null = null
  readonly history: DecidedEvent[] = []
  constructor(
    private policy: InvitePolicy = { mode: 'manual' },
    /** The tenant's time zone (HR dates are calendar days in it). */
    private timeZone = 'UTC',
  ) {}

  /** Decides on a record at `now`, appends what was decided, and returns it. */
  record(record: KomboEmployee, now: string): DecidedEvent[] {
    return this.append(decideEmployeeEvents(this.state, record, ctxAt(now, this.policy, this.timeZone)))
  }

  clock(now: string): DecidedEvent[] {
    return this.append(decideEmployeeClockEvents(this.state, ctxAt(now, this.policy, this.timeZone)))
  }

  append(events: DecidedEvent[]): DecidedEvent[] {
    for (const e of events) EmployeeEvent.parse({ type: e.type, data: e.data }) // every decision matches the catalogue
    this.history.push(...events)
    this.state = applied(this.state, events)
    return events
  }
}
