// The processor: folds each change record into its entity's stream. For every record it reads the
// stream, folds it into the current state, decides what changed, and appends only that with the
// expected revision. A concurrency conflict reloads and decides again; a record that cannot be
// understood goes to the dead-letter store with the reason. Nothing is dropped silently.
import type { ConsumedChange, DeadLetterStore } from '../producers/changelog/port.ts'
import { parseChangeEnvelope, type ChangeEnvelope } from '../schemas/envelope.ts'
import type { KomboEmployee, KomboResource } from '../schemas/kombo.ts'
import type { EmployeeEvent, EntityEvent } from '../schemas/events.ts'
import { streamCategories, streamName } from '../schemas/streams.ts'
import type { InvitePolicy } from '../schemas/invite-policy.ts'
import { WrongExpectedRevisionError, type EventStore, type EventToAppend, type RecordedEvent } from './eventstore/port.ts'
import { decideEmployeeEvents, foldEmployee } from './domain/employee.ts'
import { decideEntityEvents, foldEntity, type EntityPrefix } from './domain/entity.ts'

export const entityEventPrefix: Record<Exclude<KomboResource, 'employees'>, EntityPrefix> = {
  groups: 'Team',
  'work-locations': 'Location',
  'legal-entities': 'LegalEntity',
  'absence-types': 'AbsenceType',
  absences: 'Absence',
}

export interface ProcessorDeps {
  store: EventStore
  deadLetters: DeadLetterStore
  /** The tenant's invite policy, or undefined for a tenant this deployment does not know. */
  invitePolicyOf: (tenant: string) => InvitePolicy | undefined
  now: () => Date
  maxConflictRetries?: number
  onAppended?: (info: { stream: string; events: number; ms: number }) => void
  onDeadLetter?: (info: { reason: string; key: string }) => void
}

export type ProcessOutcome = { kind: 'appended'; stream: string; events: number } | { kind: 'unchanged' } | { kind: 'dead-lettered'; reason: string }

/** Processes a batch in order. Resolves only when every record was appended or dead-lettered. */
export async function processChanges(batch: ConsumedChange[], deps: ProcessorDeps): Promise<ProcessOutcome[]> {
  const outcomes: ProcessOutcome[] = []
  for (const change of batch) outcomes.push(await processChange(change, deps))
  return outcomes
}

export async function processChange(change: ConsumedChange, deps: ProcessorDeps): Promise<ProcessOutcome> {
  const deadLetter = async (reason: string): Promise<ProcessOutcome> => {
    await deps.deadLetters.put({
      reason,
      origin: { resource: change.resource, partition: change.partition, offset: change.offset },
      key: change.key,
      raw: change.raw,
    })
    deps.onDeadLetter?.({ reason, key: change.key })
    return { kind: 'dead-lettered', reason }
  }
  if (change.decodeError) return deadLetter(`undecodable: ${change.decodeError}`)
  const parsed = parseChangeEnvelope(change.value)
  if (!parsed.ok) return deadLetter(parsed.reason)
  const envelope = parsed.envelope
  const policy = deps.invitePolicyOf(envelope.tenant)
  if (!policy) return deadLetter(`unknown tenant "${envelope.tenant}": add it to the tenants file, then re-drive`)
  return appendDecision(envelope, policy, change, deps)
}

async function appendDecision(envelope: ChangeEnvelope, policy: InvitePolicy, change: ConsumedChange, deps: ProcessorDeps): Promise<ProcessOutcome> {
  const { tenant, resource, record } = envelope
  const stream = streamName(streamCategories[resource], tenant, record.id)
  const metadata = {
    changedAt: record.changed_at,
    pollId: envelope.pollId,
    source: { topic: change.resource, partition: change.partition, offset: change.offset },
  }
  const maxRetries = deps.maxConflictRetries ?? 10
  for (let attempt = 0; ; attempt++) {
    const history = await deps.store.readStream(stream)
    const now = deps.now()
    const decided = decide(resource, history, record, { tenant, now, invitePolicy: policy })
    if (decided.length === 0) return { kind: 'unchanged' }
    // `decidedAt` is the instant the decision was taken for: views and as-of reads use it as "now".
    const events: EventToAppend[] = decided.map((e) => ({
      id: e.id,
      type: e.type,
      data: e.data as Record<string, unknown>,
      metadata: { ...metadata, decidedAt: now.toISOString() },
    }))
    const expectedRevision = history.length === 0 ? ('no_stream' as const) : history[history.length - 1].revision
    const started = performance.now()
    try {
      await deps.store.appendToStream(stream, events, { expectedRevision })
      deps.onAppended?.({ stream, events: events.length, ms: performance.now() - started })
      return { kind: 'appended', stream, events: events.length }
    } catch (err) {
      if (err instanceof WrongExpectedRevisionError && attempt < maxRetries) continue
      throw err
    }
  }
}

type Decided = { id: string; type: string; data: unknown }

function decide(
  resource: KomboResource,
  history: RecordedEvent[],
  record: ChangeEnvelope['record'],
  ctx: { tenant: string; now: Date; invitePolicy: InvitePolicy },
): Decided[] {
  const events = history.map((e) => ({ type: e.type, data: e.data }))
  if (resource === 'employees') {
    const state = foldEmployee(events as EmployeeEvent[])
    return decideEmployeeEvents(state, record as KomboEmployee, ctx)
  }
  const prefix = entityEventPrefix[resource]
  const state = foldEntity(events as EntityEvent[])
  return decideEntityEvents(prefix, state, record as { id: string; changed_at: string }, { tenant: ctx.tenant })
}
