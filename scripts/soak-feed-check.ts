// The chaos soak's check of the downstream user feed (issue 12): pure, so it can be unit-tested
// (scripts/soak-feed-check.test.ts); scripts/soak-feed.ts reads the topic and the event stores.
//
// The feed carries no per-user sequence number; what defines a gap is the history it is derived
// from. `replayFeed` maps an event-store history to feed events exactly as the publisher does
// (projections/user-feed/: the same fold and the same mapping, ids deterministic), so:
// - expected = replayFeed(the soak's own employee streams, decrypted): every feed event the topic
//   must hold, in order, per user. One that is absent is a gap, wherever it falls.
// - a redelivery is an event id read again after a crash (the publisher re-sends the batch whose
//   checkpoint it had not moved): counted and dropped; one whose content differs is a mismatch.
// - reference = the last user snapshot per user of replayFeed(the clean sync's streams): an
//   independent history of the same companies (one sync of their final state). The last snapshot
//   the topic gives each user must equal it, and the two must hold the same users.
import type { RecordedEvent } from '../processors/eventstore/port.ts'
import type { EmployeeState } from '../processors/domain/employee-state.ts'
import { employeeDecider } from '../processors/domain/employee.ts'
import { asDomainEvents } from '../processors/domain/decider.ts'
import type { EmployeeEvent } from '../schemas/events.ts'
import type { UserFeedEvent, UserFeedSnapshot } from '../schemas/user-feed.ts'
import { toUserFeedEvents } from '../projections/user-feed/mapping.ts'

export interface FeedCheck {
  /** Messages read from the topic, redeliveries included. */
  feedEvents: number
  /** Distinct users the topic speaks of. */
  users: number
  /** Event ids read more than once with the same content (dropped). */
  redeliveries: number
  /** Feed events the history implies but the topic lacks. */
  gaps: number
  /** Users whose last state differs from the clean replay's, users only one side has, events out of order or not from the history, ids re-sent with other content. */
  mismatches: number
  /** The first problems, described. */
  problems: string[]
  ok: boolean
}

const userKey = (e: { tenant: string; userId: string }) => `${e.tenant}/${e.userId}`

/** JSON with sorted keys: a snapshot decoded from the topic compares equal to one built in memory. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  )
}

/** The feed a clean publisher would produce from these events (in global order). */
export function replayFeed(events: readonly RecordedEvent[]): UserFeedEvent[] {
  const states = new Map<string, EmployeeState | null>()
  const out: UserFeedEvent[] = []
  for (const event of events) {
    if (!event.streamName.startsWith('employee-')) continue
    const before = states.get(event.streamName) ?? null
    const after = employeeDecider.evolve(before, asDomainEvents<EmployeeEvent>([event])[0])
    states.set(event.streamName, after)
    out.push(...toUserFeedEvents(event, before, after))
  }
  return out
}

/** Each user's snapshot after its last feed event. */
export function lastStates(feed: readonly UserFeedEvent[]): Map<string, UserFeedSnapshot | undefined> {
  const out = new Map<string, UserFeedSnapshot | undefined>()
  for (const e of feed) out.set(userKey(e), e.user)
  return out
}

function byUser(feed: readonly UserFeedEvent[]): Map<string, UserFeedEvent[]> {
  const out = new Map<string, UserFeedEvent[]>()
  for (const e of feed) {
    const list = out.get(userKey(e))
    if (list) list.push(e)
    else out.set(userKey(e), [e])
  }
  return out
}

export function checkFeed(input: {
  /** As read from the topic: one user's events in their partition's order. */
  delivered: readonly UserFeedEvent[]
  /** replayFeed of the same history (the soak's own event store). */
  expected: readonly UserFeedEvent[]
  /** lastStates of a clean replay (the clean sync's event store). */
  reference: ReadonlyMap<string, UserFeedSnapshot | undefined>
}): FeedCheck {
  const problems: string[] = []
  let redeliveries = 0
  let gaps = 0
  let mismatches = 0
  const mismatch = (text: string) => {
    mismatches += 1
    problems.push(text)
  }
  const delivered = byUser(input.delivered)
  const expected = byUser(input.expected)
  const firsts = new Map<string, UserFeedEvent[]>()
  for (const [user, events] of delivered) {
    const seen = new Map<string, string>()
    const unique: UserFeedEvent[] = []
    for (const e of events) {
      const json = canonical(e)
      const before = seen.get(e.eventId)
      if (before === undefined) {
        seen.set(e.eventId, json)
        unique.push(e)
      } else if (before === json) redeliveries += 1
      else mismatch(`${user}: event ${e.eventId} (${e.type}) sent again with other content`)
    }
    firsts.set(user, unique)
  }
  for (const user of new Set([...expected.keys(), ...firsts.keys()])) {
    const want = expected.get(user) ?? []
    const got = firsts.get(user) ?? []
    const gotIds = new Set(got.map((e) => e.eventId))
    const wantIds = new Set(want.map((e) => e.eventId))
    const missing = want.filter((e) => !gotIds.has(e.eventId))
    if (missing.length > 0) {
      gaps += missing.length
      problems.push(`${user}: ${missing.length} of ${want.length} feed events missing (first: ${missing[0].type} from source position ${missing[0].sourcePosition})`)
    }
    const extra = got.filter((e) => !wantIds.has(e.eventId))
    if (extra.length > 0) mismatch(`${user}: ${extra.length} feed events the history does not imply (first: ${extra[0].type} ${extra[0].eventId})`)
    // Same events in another order: a consumer applying them would end elsewhere.
    const order = (xs: UserFeedEvent[], keep: Set<string>) => xs.filter((e) => keep.has(e.eventId)).map((e) => e.eventId).join(',')
    if (order(got, wantIds) !== order(want, gotIds)) mismatch(`${user}: feed events out of the history's order`)
  }
  const last = lastStates([...firsts.values()].flat())
  for (const user of new Set([...last.keys(), ...input.reference.keys()])) {
    if (!input.reference.has(user)) mismatch(`${user}: in the feed, but not a user of the clean replay`)
    else if (!last.has(user)) mismatch(`${user}: a user of the clean replay with no feed event`)
    else if (canonical(last.get(user)) !== canonical(input.reference.get(user)))
      mismatch(`${user}: last state differs from the clean replay (${canonical(last.get(user)).slice(0, 300)} vs ${canonical(input.reference.get(user)).slice(0, 300)})`)
  }
  return {
    feedEvents: input.delivered.length,
    users: delivered.size,
    redeliveries,
    gaps,
    mismatches,
    problems: problems.slice(0, 50),
    ok: gaps === 0 && mismatches === 0,
  }
}
