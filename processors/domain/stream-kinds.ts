// The decider registry: one row per stream kind — its category, Kombo resource and event prefix
// (from schemas/streams.ts) with its decider (`decide`, `evolve`, `initialState`). The processor,
// the projection and the audit reads dispatch through this table instead of on the kind
// themselves; the `satisfies` below fails to compile when a category of schemas/streams.ts has no
// decider here.
import type { KomboResource } from '../../schemas/kombo.ts'
import type { DomainEvent } from '../../schemas/events.ts'
import { streamCategories, streamKinds, type StreamCategory } from '../../schemas/streams.ts'
import type { Decider, DomainEventShape, ObserveRecord } from './decider.ts'
import { employeeDecider } from './employee.ts'
import { entityDecider, type EntityCategory } from './entity.ts'

export interface StreamKind<State, Command, Event extends DomainEventShape> extends Decider<State, Command, Event> {
  category: StreamCategory
  resource: KomboResource
  /** The prefix of the kind's event types (`Team` → `TeamImported` …). */
  eventPrefix: string
}

const employeeKind = { category: 'employee' as const, ...streamKinds.employee, ...employeeDecider }
const entityKind = <C extends EntityCategory>(category: C) => ({ category, ...streamKinds[category], ...entityDecider(streamKinds[category].eventPrefix) })

export const streamDeciders = {
  employee: employeeKind,
  team: entityKind('team'),
  location: entityKind('location'),
  legalEntity: entityKind('legalEntity'),
  absenceType: entityKind('absenceType'),
  absence: entityKind('absence'),
} satisfies { [C in StreamCategory]: StreamKind<unknown, never, DomainEvent> & { category: C } }

/**
 * Any kind as the generic callers use it: observe a record, fold events. The one widening of the
 * registry's precise types; each kind's own `decide`/`evolve` check their inputs' types.
 */
export type AnyStreamKind = StreamKind<unknown, ObserveRecord, DomainEventShape>

export const streamKindOf = (category: StreamCategory): AnyStreamKind => streamDeciders[category] as unknown as AnyStreamKind
export const streamKindOfResource = (resource: KomboResource): AnyStreamKind => streamKindOf(streamCategories[resource])
