// Given / when / then over events for a decider (after Emmett's `DeciderSpecification`): given the
// events a stream already holds, when a command arrives, then exactly these events are decided —
// or none, or the command is refused. The state is only ever built by folding the given events, so
// a specification says nothing about how the state looks inside.
import type { Test } from 'tap'
import type { Decider, DomainEventShape } from '../../processors/domain/decider.ts'

/** An event as a specification names it: type and data, without its (deterministic) id. */
type Expected<E extends DomainEventShape> = { type: E['type']; data: Partial<E['data']> & Record<string, unknown> }

const withoutIds = <E extends DomainEventShape>(events: readonly E[]) => events.map(({ type, data }) => ({ type, data }))

export const DeciderSpecification = {
  for<State, Command, Event extends DomainEventShape>(decider: Decider<State, Command, Event>, t: Test) {
    return (given: readonly Event[]) => ({
      when(command: Command) {
        const decide = () => {
          let state = decider.initialState()
          for (const event of given) state = decider.evolve(state, event)
          return decider.decide(command, state)
        }
        return {
          /** Exactly these events, in this order, with exactly this data. */
          then(expected: readonly Expected<Event>[], message = 'decides exactly these events') {
            t.strictSame(withoutIds(decide()), expected, message)
          },
          /** These event types in this order; each event's data at least has the given fields. */
          thenMatches(expected: readonly Expected<Event>[], message = 'decides these events') {
            const decided = withoutIds(decide())
            t.same(decided.map((e) => e.type), expected.map((e) => e.type), `${message}: types`)
            t.match(decided, expected, `${message}: data`)
          },
          thenNothingHappened(message = 'decides nothing') {
            t.strictSame(withoutIds(decide()), [], message)
          },
          thenThrows(expected: Error | Record<string, unknown>, message = 'refuses the command') {
            t.throws(decide, expected as Error, message)
          },
        }
      },
    })
  },
}
