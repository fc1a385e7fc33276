// The one command handler (Emmett's `handleCommand` shape): read the stream, fold it with the
// decider, decide, append what was decided with the expected revision the state was folded up to,
// and, when the policy says an error is worth it (by default: a concurrent append), do it all again
// on the fresh stream. Used by the manual invite, the clock and the erasure audit. The batch
// processor (process-changes.ts) keeps its own bulk path — one multi-stream append per batch and a
// stream-state cache — but decides and folds with the same deciders.
import { foldEvents, type Decider, type DomainEventShape, type WithId } from '../domain/decider.ts'
import { WrongExpectedRevisionError, type EventStore, type ExpectedRevision } from '../eventstore/port.ts'

/** When and how often to try again, as data (the options of `async-retry`, which Emmett uses). */
export interface RetryPolicy {
  /** Tries after the first one; 0 never retries. */
  retries: number
  /** Milliseconds before the first retry (0: at once). */
  minTimeout: number
  /** Each further wait is the previous one times this. */
  factor: number
  /** Whether this error is worth another try; any other error is thrown at once. */
  shouldRetryError(err: unknown): boolean
}

export const isConcurrencyConflict = (err: unknown): boolean => err instanceof WrongExpectedRevisionError

/** Concurrent appends are retried at once on the reloaded stream: the decision is pure and cheap. */
export const retryOnConflict = (retries: number): RetryPolicy => ({ retries, minTimeout: 0, factor: 1, shouldRetryError: isConcurrencyConflict })

export const DEFAULT_COMMAND_RETRY: RetryPolicy = retryOnConflict(5)

export interface HandleCommandOptions {
  retry?: RetryPolicy
  /** Stored beside every appended event (who, why, `decidedAt` …). */
  metadata?: Record<string, unknown>
}

export interface CommandResult<State, Event> {
  /** The state after the new events (the folded state when nothing was decided). */
  newState: State
  /** What was appended; [] when the decision added nothing (and nothing was written). */
  newEvents: WithId<Event>[]
  /** The stream's last revision after the command ('no_stream' when it still has no event). */
  nextExpectedRevision: bigint | 'no_stream'
  /** How many times the command was tried (1 without a retry). */
  attempts: number
}

/**
 * Runs `decide` on the stream's current state and appends its events. Errors of `decide` (a
 * refused command) are thrown as they are; when the retries are spent, the last error is thrown
 * (a WrongExpectedRevisionError for conflicts), so the caller can tell and report it.
 */
export async function handleCommand<State, Event extends DomainEventShape>(
  store: EventStore,
  streamName: string,
  decider: Pick<Decider<State, never, Event>, 'evolve' | 'initialState'>,
  decide: (state: State) => WithId<Event>[],
  options: HandleCommandOptions = {},
): Promise<CommandResult<State, Event>> {
  const retry = options.retry ?? DEFAULT_COMMAND_RETRY
  let wait = retry.minTimeout
  for (let attempt = 1; ; attempt++) {
    try {
      return { ...(await handleOnce(store, streamName, decider, decide, options.metadata)), attempts: attempt }
    } catch (err) {
      if (attempt > retry.retries || !retry.shouldRetryError(err)) throw err
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      wait *= retry.factor
    }
  }
}

async function handleOnce<State, Event extends DomainEventShape>(
  store: EventStore,
  streamName: string,
  decider: Pick<Decider<State, never, Event>, 'evolve' | 'initialState'>,
  decide: (state: State) => WithId<Event>[],
  metadata: Record<string, unknown> | undefined,
): Promise<Omit<CommandResult<State, Event>, 'attempts'>> {
  const history = await store.readStream(streamName)
  const state = foldEvents(decider, history)
  const revision: bigint | 'no_stream' = history.length === 0 ? 'no_stream' : history[history.length - 1].revision
  const newEvents = decide(state)
  if (newEvents.length === 0) return { newState: state, newEvents, nextExpectedRevision: revision }
  const expectedRevision: ExpectedRevision = revision
  const result = await store.appendToStream(
    streamName,
    newEvents.map((e) => ({ id: e.id, type: e.type, data: e.data, ...(metadata ? { metadata: { ...metadata } } : {}) })),
    { expectedRevision },
  )
  let newState = state
  for (const event of newEvents) newState = decider.evolve(newState, event)
  return { newState, newEvents, nextExpectedRevision: result.nextExpectedRevision }
}
