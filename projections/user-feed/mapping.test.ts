import t from 'tap'
import { EmployeeScenario, tenant } from '../../test/support/employee-scenario.ts'
import { anEmployee, later } from '../../test/support/kombo-fixtures.ts'
import { evolveEmployee, type DecidedEvent, type EmployeeState } from '../../processors/domain/index.ts'
import type { RecordedEvent } from '../../processors/eventstore/port.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import { UserFeedEvent } from '../../schemas/user-feed.ts'
import { feedEventId, toUserFeedEvents } from './mapping.ts'

/** Records the scenario's decided events as the store would, and maps each with its states. */
function feedOf(history: DecidedEvent[]): UserFeedEvent[] {
  let state: EmployeeState | null = null
  const out: UserFeedEvent[] = []
  history.forEach((e, i) => {
    const recorded: RecordedEvent = {
      id: e.id,
      type: e.type,
      streamName: employeeStreamName(tenant, e.data.entityId),
      revision: BigInt(i),
      position: BigInt(100 + i),
      data: e.data as Record<string, unknown>,
      metadata: {},
      recordedAt: new Date('2026-01-10T10:00:00.000Z'),
    }
    const before = state
    state = evolveEmployee(state, e)
    out.push(...toUserFeedEvents(recorded, before, state))
  })
  for (const f of out) UserFeedEvent.parse(f) // every feed event matches the published schema
  return out
}

t.test('a new employee is a created user, with the snapshot the record describes', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee(), '2026-01-10T10:00:00.000Z')
  const feed = feedOf(s.history)
  t.same(feed.map((f) => f.type), ['UserCreated'])
  t.equal(feed[0].tenant, tenant)
  t.equal(feed[0].userId, 'emp-1')
  t.equal(feed[0].occurredAt, '2026-01-10T09:00:00.000Z')
  t.equal(feed[0].sourcePosition, '100')
  t.match(feed[0].user, { externalId: 'emp-1', displayName: 'Ada Lovelace', email: 'ada@example.com', jobTitle: 'Engineer', hireDate: '2026-01-01', locationExternalId: 'loc-1', teams: [{ externalId: 'grp-1', name: 'Platform', type: 'TEAM' }] })
})

t.test('event ids are derived from the source event: the same source gives the same id, another type another', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee(), '2026-01-10T10:00:00.000Z')
  const [a] = feedOf(s.history)
  const [b] = feedOf(s.history)
  t.equal(a.eventId, b.eventId)
  t.equal(a.eventId, feedEventId(s.history[0].id, 'UserCreated'))
  t.not(feedEventId(s.history[0].id, 'UserUpdated'), a.eventId)
})

t.test('a visible field change is an update naming the changed fields; an invisible one publishes nothing', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee(), '2026-01-10T10:00:00.000Z')
  s.record(anEmployee({ changed_at: later(5), job_title: 'Staff Engineer', manager_id: 'emp-9' }), '2026-01-10T10:05:00.000Z')
  s.record(anEmployee({ changed_at: later(6), job_title: 'Staff Engineer', manager_id: 'emp-9', custom_fields: { shirt: 'L' } }), '2026-01-10T10:06:00.000Z')
  const feed = feedOf(s.history)
  const updates = feed.filter((f) => f.type === 'UserUpdated')
  t.same(updates.flatMap((u) => u.changedFields).sort(), ['jobTitle', 'managerExternalId'])
  t.equal(updates.at(-1)!.user!.jobTitle, 'Staff Engineer')
  t.notOk(feed.some((f) => f.changedFields?.includes('employeeNumber')), 'custom fields are not a visible change')
})

t.test('deletion in the HR system: deleted and deactivated', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee(), '2026-01-10T10:00:00.000Z')
  s.record(anEmployee({ changed_at: later(10), remote_deleted_at: later(10) }), '2026-01-10T10:10:00.000Z')
  const feed = feedOf(s.history)
  t.ok(feed.some((f) => f.type === 'UserDeleted'))
  const deactivated = feed.find((f) => f.type === 'UserDeactivated')
  t.equal(deactivated?.reason, 'deleted_in_source')
})

t.test('invite due (on the start date policy), then invited by the policy', async (t) => {
  const s = new EmployeeScenario({ mode: 'on_start_date', daysBefore: 0 })
  s.record(anEmployee({ start_date: '2026-02-01' }), '2026-01-10T10:00:00.000Z')
  s.clock('2026-02-01T00:00:01.000Z')
  const feed = feedOf(s.history)
  const due = feed.find((f) => f.type === 'UserInviteDue')
  t.ok(due, 'invite due published when scheduled')
  t.equal(due?.dueAt?.slice(0, 10), '2026-02-01')
  const invited = feed.find((f) => f.type === 'UserInvited')
  t.equal(invited?.invitedBy, 'policy')
})

t.test('a leaver: the clock fact itself publishes nothing, the deactivation does', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee({ termination_date: '2026-01-20' }), '2026-01-10T10:00:00.000Z')
  s.clock('2026-01-21T00:00:00.000Z')
  t.ok(s.history.some((e) => e.type === 'EmployeeLeft'))
  const types = feedOf(s.history).map((f) => f.type)
  t.same(types, ['UserCreated', 'UserDeactivated'])
})

t.test('streams that are not employees, or have no import, publish nothing', async (t) => {
  const base: RecordedEvent = {
    id: '00000000-0000-4000-8000-000000000001',
    type: 'TeamImported',
    streamName: 'team-acme_grp-1',
    revision: 0n,
    position: 1n,
    data: { tenant: 'acme', entityId: 'grp-1', changedAt: later(0), snapshot: {} },
    metadata: {},
    recordedAt: new Date(),
  }
  t.same(toUserFeedEvents(base, null, null), [])
  t.same(toUserFeedEvents({ ...base, streamName: 'employee-acme_e1', type: 'EmployeeJobTitleChanged' }, null, null), [])
})

t.test("Kombo's 14-day nulling of a deleted employee publishes nothing: no UserUpdated with nulls", async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee(), '2026-01-10T10:00:00.000Z')
  s.record(anEmployee({ changed_at: '2026-02-01T08:00:00.000Z', remote_deleted_at: '2026-02-01T08:00:00.000Z' }), '2026-02-01T08:00:00.000Z')
  const nulled = Object.fromEntries(Object.keys(anEmployee()).map((k) => [k, null]))
  s.record({ ...nulled, id: 'emp-1', changed_at: '2026-02-15T08:00:00.000Z', remote_deleted_at: '2026-02-01T08:00:00.000Z' } as never, '2026-02-15T08:00:00.000Z')
  t.equal(s.history.at(-1)?.type, 'EmployeePurgedInSource', 'the purge is in the stream')
  const feed = feedOf(s.history)
  t.same(feed.map((f) => f.type), ['UserCreated', 'UserDeleted', 'UserDeactivated'])
  t.match(feed.at(-1)?.user, { firstName: 'Ada', email: 'ada@example.com' }, 'the last known values')
})
