// The soak's feed check (scripts/soak-feed-check.ts) on a history built with the domain's own
// decider: a complete feed passes, a re-sent batch is counted and dropped, a lost event is a gap,
// a last state unlike the clean replay's is a mismatch.
import t from 'tap'
import { EmployeeScenario, tenant } from '../test/support/employee-scenario.ts'
import { anEmployee, later } from '../test/support/kombo-fixtures.ts'
import type { DecidedEvent } from '../processors/domain/index.ts'
import type { RecordedEvent } from '../processors/eventstore/port.ts'
import { employeeStreamName } from '../schemas/streams.ts'
import type { UserFeedEvent } from '../schemas/user-feed.ts'
import { checkFeed, lastStates, replayFeed } from './soak-feed-check.ts'

let position = 100n
/** The scenario's events as the store records them, in one stream per employee. */
function recorded(history: DecidedEvent[]): RecordedEvent[] {
  const revisions = new Map<string, bigint>()
  return history.map((e) => {
    const streamName = employeeStreamName(tenant, e.data.entityId)
    const revision = revisions.get(streamName) ?? 0n
    revisions.set(streamName, revision + 1n)
    return { id: e.id, type: e.type, streamName, revision, position: position++, data: e.data as Record<string, unknown>, metadata: {}, recordedAt: new Date('2026-01-10T10:00:00.000Z') }
  })
}

/** emp-1 created, then updated twice; emp-2 created between (one scenario per employee). */
function twoUsers() {
  const ada = new EmployeeScenario()
  const bob = new EmployeeScenario()
  const history = [
    ...ada.record(anEmployee(), '2026-01-10T10:00:00.000Z'),
    ...bob.record(anEmployee({ id: 'emp-2', work_email: 'bob@example.com', first_name: 'Bob' }), '2026-01-10T10:00:00.000Z'),
    ...ada.record(anEmployee({ changed_at: later(5), job_title: 'Staff Engineer' }), '2026-01-10T10:05:00.000Z'),
    ...ada.record(anEmployee({ changed_at: later(6), job_title: 'Principal Engineer' }), '2026-01-10T10:06:00.000Z'),
  ]
  return replayFeed(recorded(history))
}

t.test('the whole feed, once, in order: ok', async (t) => {
  const feed = twoUsers()
  t.same(feed.map((e) => e.type), ['UserCreated', 'UserCreated', 'UserUpdated', 'UserUpdated'], 'the replay maps the history as the publisher does')
  const check = checkFeed({ delivered: feed, expected: feed, reference: lastStates(feed) })
  t.same(check.problems, [])
  t.match(check, { feedEvents: 4, users: 2, redeliveries: 0, gaps: 0, mismatches: 0, ok: true })
})

t.test('a batch sent again after a crash is counted and dropped, not a loss', async (t) => {
  const feed = twoUsers()
  const delivered = [...feed.slice(0, 3), ...feed.slice(1, 3), feed[3]] // the 2nd and 3rd re-sent
  const check = checkFeed({ delivered, expected: feed, reference: lastStates(feed) })
  t.same(check.problems, [])
  t.match(check, { feedEvents: 6, users: 2, redeliveries: 2, gaps: 0, mismatches: 0, ok: true })
})

t.test('an event the history implies but the topic lacks is a gap, also in the middle', async (t) => {
  const feed = twoUsers()
  const delivered = feed.filter((_, i) => i !== 2) // emp-1's first update lost; its last one arrived
  const check = checkFeed({ delivered, expected: feed, reference: lastStates(feed) })
  t.equal(check.gaps, 1)
  t.equal(check.ok, false)
  t.match(check.problems[0], /emp-1: 1 of 3 feed events missing \(first: UserUpdated/)
})

t.test('a last state unlike the clean replay is a mismatch', async (t) => {
  const feed = twoUsers()
  const reference = lastStates(feed)
  const key = `${tenant}/emp-1`
  reference.set(key, { ...reference.get(key)!, jobTitle: 'Staff Engineer' })
  const check = checkFeed({ delivered: feed, expected: feed, reference })
  t.equal(check.gaps, 0)
  t.equal(check.mismatches, 1)
  t.equal(check.ok, false)
  t.match(check.problems[0], /emp-1: last state differs from the clean replay/)
})

t.test('a user only one side has, events out of order, an id re-sent with other content: mismatches', async (t) => {
  const feed = twoUsers()
  const reference = lastStates(feed)
  reference.set(`${tenant}/emp-3`, reference.get(`${tenant}/emp-1`))
  const reordered = [feed[0], feed[1], feed[3], feed[2]]
  const changed: UserFeedEvent = { ...feed[3], user: { ...feed[3].user!, jobTitle: 'Other' } }
  t.match(checkFeed({ delivered: feed, expected: feed, reference }), { mismatches: 1, ok: false, problems: [/emp-3: a user of the clean replay with no feed event/] })
  t.match(checkFeed({ delivered: reordered, expected: feed, reference: lastStates(feed) }), { gaps: 0, ok: false, problems: [/emp-1: feed events out of the history's order/] })
  t.match(checkFeed({ delivered: [...feed, changed], expected: feed, reference: lastStates(feed) }), { redeliveries: 0, ok: false, problems: [/sent again with other content/] })
})
