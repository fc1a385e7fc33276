// Records in an employee's stream that the customer's reconnected HR system knows them under a new
// Kombo id (producers/relink): one EmployeeRelinked, appended through the one command handler
// (expected revision, retried on a concurrent append by the processor or the clock). Its id is
// deterministic, and a stream that already holds it gets nothing: a re-link run repeated after a
// crash records each employee once.
import type { EventStore } from '../eventstore/port.ts'
import { employeeDecider } from '../domain/employee.ts'
import { eventId } from '../domain/event-ids.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import type { EmployeeEvent } from '../../schemas/events.ts'
import { handleCommand, retryOnConflict } from './handle-command.ts'

export interface RelinkEmployeeCommand {
  tenant: string
  entityId: string
  fromKomboId: string
  toKomboId: string
  fromIntegrationId: string | null
  toIntegrationId: string
  matchedBy: 'remote_id' | 'work_email'
  actor: string
}

/** True when the event was appended; false when the stream had it already, or has no employee. */
export async function relinkEmployee(deps: { store: EventStore; now: () => Date }, command: RelinkEmployeeCommand): Promise<boolean> {
  const stream = employeeStreamName(command.tenant, command.entityId)
  const id = eventId(command.tenant, stream, `relink:${command.toIntegrationId}:${command.toKomboId}`, 'EmployeeRelinked')
  if ((await deps.store.readStream(stream)).some((e) => e.id === id)) return false
  const now = deps.now()
  const { fromKomboId, toKomboId, fromIntegrationId, toIntegrationId, matchedBy } = command
  const event: EmployeeEvent & { id: string } = {
    id,
    type: 'EmployeeRelinked',
    data: { tenant: command.tenant, entityId: command.entityId, changedAt: now.toISOString(), fromKomboId, toKomboId, fromIntegrationId, toIntegrationId, matchedBy },
  }
  const result = await handleCommand(deps.store, stream, employeeDecider, (state) => (state === null ? [] : [event]), {
    retry: retryOnConflict(5),
    metadata: { actor: command.actor, decidedAt: now.toISOString(), relink: toIntegrationId },
  })
  return result.newEvents.length > 0
}
