// What the user-events feed must hold for a store: every employee event mapped once, in store order.
import { toUserFeedEvents } from '../../projections/user-feed/mapping.ts'
import { evolveEmployee, type EmployeeState } from '../../processors/domain/index.ts'
import type { EmployeeEvent } from '../../schemas/events.ts'
import type { UserFeedEvent } from '../../schemas/user-feed.ts'
import type { EventStore } from '../../processors/eventstore/port.ts'

export async function expectedFeed(store: EventStore): Promise<UserFeedEvent[]> {
  const states = new Map<string, EmployeeState | null>()
  const out: UserFeedEvent[] = []
  for (const e of await store.readAll({ streamPrefixes: ['employee-'] })) {
    const before = states.get(e.streamName) ?? null
    const after = evolveEmployee(before, { type: e.type, data: e.data } as EmployeeEvent)
    states.set(e.streamName, after)
    out.push(...toUserFeedEvents(e, before, after))
  }
  return out
}
