// The manual invite command (POST …/users/:id/invite): decided on the employee's stream like any
// other change, appended with the expected revision, retried on a concurrent append.
import { randomUUID } from 'node:crypto'
import type { EventStore } from '../eventstore/port.ts'
import { employeeDecider } from '../domain/employee.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import { handleCommand, retryOnConflict } from './handle-command.ts'

/** A concurrent append (the processor, the clock) is retried on the reloaded stream up to 5 times. */
export const INVITE_RETRY = retryOnConflict(5)

export async function inviteUser(
  deps: { store: EventStore; now: () => Date; /** The tenant's HR time zone (whether the user is deactivated now). */ timeZoneOf: (tenant: string) => string },
  command: { tenant: string; employeeId: string; actor: string; commandId?: string },
): Promise<{ status: 'invited' }> {
  const commandId = command.commandId ?? randomUUID()
  const now = deps.now()
  const context = { tenant: command.tenant, employeeId: command.employeeId, now, timeZone: deps.timeZoneOf(command.tenant), commandId, actor: command.actor }
  // Throws InviteNotAllowedError (unknown employee, already invited, deactivated …).
  await handleCommand(
    deps.store,
    employeeStreamName(command.tenant, command.employeeId),
    employeeDecider,
    (state) => employeeDecider.decide({ type: 'InviteManually', context }, state),
    { retry: INVITE_RETRY, metadata: { commandId, actor: command.actor, decidedAt: now.toISOString() } },
  )
  return { status: 'invited' }
}
