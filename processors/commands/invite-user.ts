// The manual invite command (POST …/users/:id/invite): decided on the employee's stream like any
// other change, appended with the expected revision, retried on a concurrent append.
import { randomUUID } from 'node:crypto'
import { WrongExpectedRevisionError, type EventStore } from '../eventstore/port.ts'
import { decideManualInvite } from '../domain/employee.ts'
import { foldEmployee } from '../domain/employee-state.ts'
import type { EmployeeEvent } from '../../schemas/events.ts'
import { employeeStreamName } from '../../schemas/streams.ts'

export async function inviteUser(
  deps: { store: EventStore; now: () => Date; /** The tenant's HR time zone (whether the user is deactivated now). */ timeZoneOf: (tenant: string) => string },
  command: { tenant: string; employeeId: string; actor: string; commandId?: string },
): Promise<{ status: 'invited' }> {
  const stream = employeeStreamName(command.tenant, command.employeeId)
  const commandId = command.commandId ?? randomUUID()
  for (let attempt = 0; ; attempt++) {
    const history = await deps.store.readStream(stream)
    const state = foldEmployee(history.map((e) => ({ type: e.type, data: e.data }) as EmployeeEvent))
    // Throws InviteNotAllowedError (unknown employee, already invited, deactivated …).
    const now = deps.now()
    const decided = decideManualInvite(state, { tenant: command.tenant, employeeId: command.employeeId, now, timeZone: deps.timeZoneOf(command.tenant), commandId, actor: command.actor })
    try {
      await deps.store.appendToStream(
        stream,
        decided.map((e) => ({ id: e.id, type: e.type, data: e.data as Record<string, unknown>, metadata: { commandId, actor: command.actor, decidedAt: now.toISOString() } })),
        { expectedRevision: history[history.length - 1].revision },
      )
      return { status: 'invited' }
    } catch (err) {
      if (err instanceof WrongExpectedRevisionError && attempt < 5) continue
      throw err
    }
  }
}
