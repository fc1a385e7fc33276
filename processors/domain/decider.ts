// The shape every stream kind's domain logic has (as in Emmett's `Decider`): `decide` turns a
// command and the current state into new events, `evolve` folds one event into the state, and
// `initialState` is the state of a stream with no events. Pure values, no I/O: the command handler
// (processors/commands/handle-command.ts) and the batch processor do the reading and appending.
import type { InvitePolicy } from '../../schemas/invite-policy.ts'

/** An event as the domain sees it: a stored event's type and data, nothing of where it is stored. */
export interface DomainEventShape {
  type: string
  data: Record<string, unknown>
}

/** An event ready to append: its id is deterministic (see event-ids.ts). */
export type WithId<E> = E & { id: string }

/** What a decision is taken for: whose stream, at which instant, under which invite policy. */
export interface DecisionContext {
  tenant: string
  now: Date
  invitePolicy: InvitePolicy
  /** IANA zone the tenant's HR dates are calendar days in (hr-dates.ts). */
  timeZone: string
  /**
   * The tenant's mass-deactivation guard is on: deactivating an active user is deferred
   * (UserDeactivationDeferred) for the guard to apply or hold with the rest of its round.
   */
  deferDeactivations?: boolean
}

/** A Kombo record of the stream's entity arrived (from the change log): the one command every stream kind takes. */
export interface ObserveRecord<R = { id: string; changed_at: string; [field: string]: unknown }> {
  type: 'ObserveRecord'
  record: R
  context: DecisionContext
}

export interface Decider<State, Command, Event extends DomainEventShape> {
  decide(command: Command, state: State): WithId<Event>[]
  evolve(state: State, event: Event): State
  initialState(): State
}

/**
 * The domain view of stored events. The store keeps whatever was appended, and only our deciders
 * append to our streams, so a stored event of a stream is one of that stream kind's events: this is
 * the one place that says so (the one cast from storage to the domain vocabulary).
 */
export function asDomainEvents<Event extends DomainEventShape>(recorded: readonly DomainEventShape[]): Event[] {
  return recorded.map((e) => ({ type: e.type, data: e.data }) as Event)
}

/** The state after these stored events, from the decider's initial state. */
export function foldEvents<State, Event extends DomainEventShape>(
  decider: Pick<Decider<State, never, Event>, 'evolve' | 'initialState'>,
  recorded: readonly DomainEventShape[],
): State {
  let state = decider.initialState()
  for (const event of asDomainEvents<Event>(recorded)) state = decider.evolve(state, event)
  return state
}
