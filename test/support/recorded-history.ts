// Writes an employee's life into an event store as the processor and the clock would, each step at
// its own recorded instant (`decidedAt`): so tests can read both time axes — what the HR records
// say (their `changed_at` and dates) and what kombo-sync knew when.
import type { EventStore } from '../../processors/eventstore/port.ts'
import { decideEmployeeClockEvents, decideEmployeeEvents, foldEmployee, type DecidedEvent } from '../../processors/domain/index.ts'
import type { EmployeeEvent } from '../../schemas/events.ts'
import type { InvitePolicy } from '../../schemas/invite-policy.ts'
import type { KomboEmployee } from '../../schemas/kombo.ts'
import { employeeStreamName } from '../../schemas/streams.ts'

export class RecordedHistory {
  private polls = 0
  constructor(
    private readonly store: EventStore,
    readonly tenant: string,
    private readonly invitePolicy: InvitePolicy = { mode: 'manual' },
    /** The tenant's time zone, as the processor and the clock would decide in it. */
    private readonly timeZone = 'UTC',
  ) {}

  /** A poll at `recordedAt` brings this record; returns the event types appended. */
  async poll(record: KomboEmployee, recordedAt: string): Promise<string[]> {
    const pollId = `poll-${++this.polls}`
    return this.write(record.id, recordedAt, (state, now) => decideEmployeeEvents(state, record, { tenant: this.tenant, now, invitePolicy: this.invitePolicy, timeZone: this.timeZone }), {
      changedAt: record.changed_at,
      pollId,
    })
  }

  /** The clock ticks at `recordedAt` for this employee. */
  async clock(employeeId: string, recordedAt: string): Promise<string[]> {
    return this.write(employeeId, recordedAt, (state, now) => decideEmployeeClockEvents(state, { tenant: this.tenant, now, invitePolicy: this.invitePolicy, timeZone: this.timeZone }), { by: 'clock' })
  }

  private async write(
    employeeId: string,
    recordedAt: string,
    decide: (state: ReturnType<typeof foldEmployee>, now: Date) => DecidedEvent[],
    metadata: Record<string, unknown>,
  ): Promise<string[]> {
    const stream = employeeStreamName(this.tenant, employeeId)
    const history = await this.store.readStream(stream)
    const state = foldEmployee(history.map((e) => ({ type: e.type, data: e.data }) as EmployeeEvent))
    const decided = decide(state, new Date(recordedAt))
    if (decided.length === 0) return []
    await this.store.appendToStream(
      stream,
      decided.map((e) => ({ id: e.id, type: e.type, data: e.data as Record<string, unknown>, metadata: { ...metadata, decidedAt: recordedAt } })),
      { expectedRevision: history.length ? history[history.length - 1].revision : 'no_stream' },
    )
    return decided.map((e) => e.type)
  }
}
