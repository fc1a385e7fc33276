// The audit story on both time axes: an employee whose title changed in the HR system before the
// first sync, a late-arriving title change, a termination entered after its date, a rehire, a
// future leave date that was moved, a colleague deleted and restored in the HR system, an erased
// employee, and a renamed team — read as of HR instants, as known at recorded instants, and
// through the tenant-wide change log (projected with the views, on PGlite and PostgreSQL).
import t, { type Test } from 'tap'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openSqlEventStore } from '../../processors/eventstore/sql.ts'
import { withPersonalDataEncryption } from '../../processors/eventstore/encrypting.ts'
import { openSqlPersonalDataKeys } from '../../processors/eventstore/personal-data-keys.ts'
import { decideEntityEvents } from '../../processors/domain/entity.ts'
import { eraseEmployee } from '../../processors/commands/erase-employee.ts'
import { openSqlViewStore } from '../viewstore/sql.ts'
import { purgeUserFromViews } from '../viewstore/erase-user.ts'
import { createUserHistory } from '../history.ts'
import { rebuildViews } from '../../runtime/admin.ts'
import { createLogger } from '../../runtime/logger.ts'
import type { Stores } from '../../runtime/stores.ts'
import { streamName } from '../../schemas/streams.ts'
import type { ChangeEntry } from '../../schemas/audit.ts'
import type { SqlDatabase } from '../../sql/database.ts'
import { anEmployee, aGroup } from '../../test/support/kombo-fixtures.ts'
import { RecordedHistory } from '../../test/support/recorded-history.ts'
import { forEachSqlDriver } from '../../test/support/sql-drivers.ts'
import { openChangeLogReader, type ChangeQuery } from './change-log-store.ts'

const tenant = 'acme'
const NOW = new Date('2027-01-15T00:00:00.000Z') // "as we know it now"

async function story(t: Test) {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const raw = await openSqlEventStore(db, { pollIntervalMs: 10 })
  t.teardown(() => raw.close())
  const keys = await openSqlPersonalDataKeys(db)
  const store = withPersonalDataEncryption(raw, keys)
  const life = new RecordedHistory(store, tenant)

  // The team: created in HR long before the first sync, renamed on 1 May (synced the next day).
  const team = async (record: ReturnType<typeof aGroup>, recordedAt: string) => {
    const stream = streamName('team', tenant, record.id)
    const history = await store.readStream(stream)
    const { foldEntity } = await import('../../processors/domain/entity.ts')
    const state = foldEntity(history.map((e) => ({ type: e.type, data: e.data }) as never))
    const decided = decideEntityEvents('Team', state, record, { tenant })
    await store.appendToStream(stream, decided.map((e) => ({ id: e.id, type: e.type, data: e.data as Record<string, unknown>, metadata: { changedAt: record.changed_at, pollId: 'team-poll', decidedAt: recordedAt } })))
  }
  await team(aGroup({ changed_at: '2025-06-01T00:00:00.000Z', name: 'Platform' }), '2026-01-10T09:00:00.000Z')
  await team(aGroup({ changed_at: '2026-05-01T10:00:00.000Z', name: 'Core Platform' }), '2026-05-02T09:00:00.000Z')

  // Ada: employed since 1 Jan 2025; her title changed in HR on 1 Sep 2025, months before the first sync.
  const ada = (changes: Partial<ReturnType<typeof anEmployee>>) =>
    anEmployee({ id: 'ada', start_date: '2025-01-01T00:00:00.000Z', job_title: 'Senior Engineer', ...changes })
  let record = ada({ changed_at: '2025-09-01T08:00:00.000Z' })
  await life.poll(record, '2026-01-10T09:00:00.000Z')
  // A late-arriving change: effective 1 March, synced on 5 March.
  record = { ...record, changed_at: '2026-03-01T10:00:00.000Z', job_title: 'Staff Engineer' }
  await life.poll(record, '2026-03-05T09:00:00.000Z')
  // A termination entered on 20 June for 15 June.
  record = { ...record, changed_at: '2026-06-20T08:00:00.000Z', termination_date: '2026-06-15T00:00:00.000Z', employment_status: 'INACTIVE' }
  t.ok((await life.poll(record, '2026-06-20T09:00:00.000Z')).includes('UserDeactivated'), 'the late termination deactivates at once')
  // Rehired on 1 August to start on 1 September; the clock reaches that date.
  record = { ...record, changed_at: '2026-08-01T08:00:00.000Z', start_date: '2026-09-01T00:00:00.000Z', termination_date: null, employment_status: 'PENDING' }
  await life.poll(record, '2026-08-01T09:00:00.000Z')
  t.ok((await life.clock('ada', '2026-09-01T06:00:00.000Z')).includes('UserReactivated'), 'the rehire starts on its date')
  // A leave date in the future (31 Dec), later moved to 30 Nov; the clock reaches it.
  record = { ...record, changed_at: '2026-10-01T08:00:00.000Z', termination_date: '2026-12-31T00:00:00.000Z', employment_status: 'ACTIVE' }
  await life.poll(record, '2026-10-01T09:00:00.000Z')
  record = { ...record, changed_at: '2026-11-01T08:00:00.000Z', termination_date: '2026-11-30T00:00:00.000Z' }
  await life.poll(record, '2026-11-01T09:00:00.000Z')
  t.ok((await life.clock('ada', '2026-12-01T06:00:00.000Z')).includes('UserDeactivated'), 'the moved leave date is reached')

  // Bob: deleted in the HR system on 1 April (synced the next day), restored on 10 April.
  const bob = anEmployee({ id: 'bob', work_email: 'bob@example.com', first_name: 'Bob', display_full_name: 'Bob Builder', changed_at: '2026-01-05T00:00:00.000Z', start_date: '2025-05-01T00:00:00.000Z' })
  await life.poll(bob, '2026-01-10T09:00:00.000Z')
  await life.poll({ ...bob, changed_at: '2026-04-01T10:00:00.000Z', remote_deleted_at: '2026-04-01T10:00:00.000Z' }, '2026-04-02T09:00:00.000Z')
  await life.poll({ ...bob, changed_at: '2026-04-10T08:00:00.000Z', remote_deleted_at: null }, '2026-04-10T09:00:00.000Z')

  // Cyd: synced, then erased (GDPR).
  const cyd = anEmployee({ id: 'cyd', work_email: 'cyd@example.com', first_name: 'Cyd', display_full_name: 'Cyd Charisse', changed_at: '2026-01-05T00:00:00.000Z' })
  await life.poll(cyd, '2026-01-10T09:00:00.000Z')
  await life.poll({ ...cyd, changed_at: '2026-02-01T00:00:00.000Z', job_title: 'Dancer' }, '2026-02-01T09:00:00.000Z')

  return { db, store, keys, history: createUserHistory(store) }
}

const at = (iso: string) => new Date(iso)

t.test('users, teams on both axes', async (t) => {
  const { history, store, keys } = await story(t)
  const user = async (id: string, asOf: string | null, knownAt = NOW.toISOString()) => {
    const read = await history.userAt(tenant, id, { asOf: asOf ? at(asOf) : null, knownAt: at(knownAt) })
    return read.found ? read.value : null
  }

  // Before the first sync: the HR records' dates answer, the first snapshot is the earliest knowledge.
  t.equal(await user('ada', '2024-06-01T00:00:00Z'), null, 'before her start date and the first snapshot: nothing to say')
  const early = (await user('ada', '2025-03-01T00:00:00Z'))!
  t.equal(early.data.status, 'active', 'employed since 1 Jan 2025: active on 1 March 2025, though synced only in 2026')
  t.equal(early.data.jobTitle, 'Senior Engineer', 'the earliest known title')
  t.equal(early.knownSince, '2025-09-01T08:00:00.000Z', 'knownSince: values before the first snapshot are the earliest known')
  t.equal(early.firstRecordedAt, '2026-01-10T09:00:00.000Z')
  t.equal(early.asOf, '2025-03-01T00:00:00.000Z', 'the response says which HR instant')
  t.equal(early.knownAt, NOW.toISOString(), 'and which recorded instant')
  t.equal(await user('ada', '2025-03-01T00:00:00Z', '2026-01-01T00:00:00Z'), null, 'known at a time before the service had her: 404')
  t.equal(await user('ada', null, '2026-01-01T00:00:00Z'), null)

  // The late-arriving title change: as of 2 March, as known on 3 March and as known now.
  t.equal((await user('ada', '2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z'))!.data.jobTitle, 'Senior Engineer', 'as of 2 March, as we knew it on 3 March')
  t.equal((await user('ada', '2026-03-02T00:00:00Z'))!.data.jobTitle, 'Staff Engineer', 'as of 2 March, as we know it now')
  t.equal((await user('ada', '2026-02-28T00:00:00Z'))!.data.jobTitle, 'Senior Engineer', 'before it took effect')
  t.equal((await user('ada', null, '2026-03-03T00:00:00Z'))!.data.jobTitle, 'Senior Engineer', 'knownAt alone: the view as served then')

  // The termination entered late.
  const left = (await user('ada', '2026-06-17T00:00:00Z'))!
  t.same([left.data.status, left.data.deactivationReason], ['deactivated', 'left'], 'as of 17 June, as we know it now: left')
  t.equal((await user('ada', '2026-06-17T00:00:00Z', '2026-06-19T00:00:00Z'))!.data.status, 'active', 'as we knew it before the entry was synced: active')
  t.equal((await user('ada', '2026-06-14T12:00:00Z'))!.data.status, 'active', 'before her last day ended: active')
  t.equal((await user('ada', null, '2026-06-19T00:00:00Z'))!.data.status, 'active', 'knownAt 19 June alone: active')
  t.equal((await user('ada', null, '2026-06-21T00:00:00Z'))!.data.status, 'deactivated', 'knownAt 21 June alone: deactivated')

  // The rehire: the earlier employment is not lost to the new dates.
  t.equal((await user('ada', '2026-07-15T00:00:00Z'))!.data.status, 'deactivated', 'between the employments: out')
  t.equal((await user('ada', '2026-08-15T00:00:00Z', '2026-08-02T00:00:00Z'))!.data.status, 'deactivated', 'rehired but not started yet, as known then')
  t.equal((await user('ada', '2026-09-02T00:00:00Z'))!.data.status, 'active', 'the second employment')
  const first = (await user('ada', '2026-04-01T00:00:00Z'))!
  t.same([first.data.status, first.data.hireDate], ['active', '2025-01-01T00:00:00.000Z'], 'during the first employment: active, with its own start date')

  // The future leave date that was moved.
  const planned = (await user('ada', '2026-12-15T00:00:00Z', '2026-10-15T00:00:00Z'))!
  t.same([planned.data.status, planned.data.leaveDate], ['active', '2026-12-31T00:00:00.000Z'], 'as known in October: leaving on 31 Dec, so active on 15 Dec')
  const moved = (await user('ada', '2026-12-15T00:00:00Z', '2026-11-02T00:00:00Z'))!
  t.same([moved.data.status, moved.data.leaveDate], ['deactivated', '2026-11-30T00:00:00.000Z'], 'as known in November: out by 15 Dec')
  t.equal((await user('ada', '2026-11-15T00:00:00Z'))!.data.status, 'active', 'still employed mid-November')

  // Deleted in the HR system and restored.
  t.same([(await user('bob', '2026-04-05T00:00:00Z'))!.data.deactivationReason], ['deleted_in_source'], 'as of 5 April: deleted in the HR system')
  t.equal((await user('bob', '2026-04-05T00:00:00Z', '2026-04-01T12:00:00Z'))!.data.status, 'active', 'as known before the deletion was synced: active')
  t.equal((await user('bob', '2026-04-11T00:00:00Z'))!.data.status, 'active', 'restored')
  t.equal((await user('bob', '2026-03-31T00:00:00Z'))!.data.status, 'active', 'before the deletion')

  // The team, and the user's team name, on both axes.
  const teamAt = async (asOf: string, knownAt = NOW.toISOString()) => {
    const read = await history.teamAt(tenant, 'grp-1', { asOf: at(asOf), knownAt: at(knownAt) })
    return read.found ? read.value : null
  }
  t.equal((await teamAt('2026-04-01T00:00:00Z'))!.data.name, 'Platform')
  t.equal((await teamAt('2026-05-01T12:00:00Z', '2026-05-01T18:00:00Z'))!.data.name, 'Platform', 'renamed in HR, not synced yet')
  t.equal((await teamAt('2026-05-01T12:00:00Z'))!.data.name, 'Core Platform')
  t.equal((await teamAt('2020-01-01T00:00:00Z'))!.knownSince, '2025-06-01T00:00:00.000Z', 'a team answers with its earliest snapshot, marked by knownSince')
  t.equal(await teamAt('2026-04-01T00:00:00Z', '2026-01-01T00:00:00Z'), null, 'not known before the first sync')
  t.equal((await user('ada', '2026-04-01T00:00:00Z'))!.data.primaryTeam?.name, 'Platform', "the user's team as of then")
  t.equal((await user('ada', '2026-05-10T00:00:00Z'))!.data.primaryTeam?.name, 'Core Platform')

  // Erased: gone on both axes.
  t.ok(await user('cyd', '2026-03-01T00:00:00Z'), 'before the erasure, cyd can be read')
  await eraseEmployee({ store, keys, purgeViews: async () => {} }, { tenant, employeeId: 'cyd', reason: 'ticket-1', actor: 'dpo' })
  t.equal(await user('cyd', '2026-03-01T00:00:00Z'), null, 'erased: not found as of any HR time')
  t.equal(await user('cyd', null, '2026-03-01T00:00:00Z'), null, 'erased: not found as known at any time')
  t.equal(await history.userHistory(tenant, 'cyd'), null, 'erased: no history')
})

t.test('the user history carries readable changes beside the raw events', async (t) => {
  const { history } = await story(t)
  const h = (await history.userHistory(tenant, 'ada'))!
  t.ok(h.events.some((e) => e.type === 'EmployeeJobTitleChanged'), 'raw events as before')
  const title = h.changes.find((c) => c.changes.some((f) => f.field === 'jobTitle' && f.after === 'Staff Engineer'))!
  t.same(title.changes, [{ field: 'jobTitle', before: 'Senior Engineer', after: 'Staff Engineer' }])
  t.same([title.at, title.recordedAt, title.cause.kind], ['2026-03-01T10:00:00.000Z', '2026-03-05T09:00:00.000Z', 'poll'])
  t.ok(title.cause.pollId, 'with the poll that brought it')
})

forEachSqlDriver(t, async (t, viewDb: SqlDatabase) => {
  const { store, keys } = await story(t)
  const views = await openSqlViewStore(viewDb)
  await rebuildViews({ eventStore: store, views } as unknown as Stores, createLogger('silent'), { batchSize: 7 })
  const log = openChangeLogReader(viewDb)
  const list = async (q: Partial<ChangeQuery>): Promise<ChangeEntry[]> => (await log.listChanges(tenant, { axis: 'hr', limit: 200, ...q })).data
  const brief = (entries: ChangeEntry[]) => entries.map((e) => `${e.type}@${e.at.slice(0, 10)}`)

  const ada = await list({ userId: 'ada' })
  // A termination date is the last day of employment (processors/domain/hr-dates.ts): the
  // deactivation takes effect at 00:00 (tenant zone, UTC here) on the next day.
  t.same(
    brief(ada),
    [
      'UserCreated@2025-09-01',
      'UserUpdated@2026-03-01',
      'UserDeactivated@2026-06-16',
      'UserUpdated@2026-06-20',
      'UserUpdated@2026-08-01',
      'UserUpdated@2026-08-01',
      'UserReactivated@2026-09-01',
      'UserUpdated@2026-10-01',
      'UserUpdated@2026-11-01',
      'UserDeactivated@2026-12-01',
    ],
    "ada's changes in HR time order",
  )
  const late = ada.find((e) => e.type === 'UserDeactivated')!
  t.same(late.changes, [
    { field: 'status', before: 'active', after: 'deactivated' },
    { field: 'deactivationReason', before: null, after: 'left' },
  ])
  t.equal(late.recordedAt, '2026-06-20T09:00:00.000Z', 'recorded when synced, five days after it took effect')
  t.same(ada.find((e) => e.changes.some((c) => c.field === 'leaveDate' && c.after === '2026-11-30T00:00:00.000Z'))!.changes, [{ field: 'leaveDate', before: '2026-12-31T00:00:00.000Z', after: '2026-11-30T00:00:00.000Z' }], 'the moved leave date, before → after')
  t.same(ada.filter((e) => e.cause.kind === 'clock').map((e) => e.type), ['UserReactivated', 'UserDeactivated'], 'what the clock decided says so')
  t.ok(ada.filter((e) => e.cause.kind === 'poll').every((e) => e.cause.pollId), 'polled changes name their poll')

  // Who was deactivated between 14 and 18 June? On HR time: ada. On recorded time: nobody.
  const june = { from: '2026-06-14T00:00:00Z', to: '2026-06-18T00:00:00Z', type: 'UserDeactivated' as const }
  t.same((await list(june)).map((e) => e.userId), ['ada'], 'HR time: the late termination counts for June 15')
  t.same(await list({ ...june, axis: 'recorded' }), [], 'recorded time: nothing was deactivated then')
  t.same((await list({ ...june, from: '2026-06-20T00:00:00Z', to: '2026-06-21T00:00:00Z', axis: 'recorded' })).map((e) => e.userId), ['ada'], 'recorded on 20 June')

  // Every job-title change in March.
  t.same((await list({ field: 'jobTitle', from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' })).map((e) => e.changes), [[{ field: 'jobTitle', before: 'Senior Engineer', after: 'Staff Engineer' }]])

  t.same(brief(await list({ userId: 'bob' })), ['UserCreated@2026-01-05', 'UserDeleted@2026-04-01', 'UserDeactivated@2026-04-01', 'UserRestored@2026-04-10', 'UserReactivated@2026-04-10'], 'deleted and restored')

  // Pages of two visit every entry once, in the same stable order, on both axes.
  for (const axis of ['hr', 'recorded'] as const) {
    const all = await list({ axis })
    const paged: ChangeEntry[] = []
    let cursor: string | undefined
    do {
      const page = await log.listChanges(tenant, { axis, limit: 2, cursor })
      paged.push(...page.data)
      cursor = page.next ?? undefined
    } while (cursor)
    t.same(paged, all, `${axis}: paging visits every entry once`)
    const key = (e: ChangeEntry) => (axis === 'hr' ? e.at : e.recordedAt)
    t.ok(all.every((e, i) => i === 0 || key(all[i - 1]) <= key(e)), `${axis}: ordered by that axis`)
  }
  await t.rejects(log.listChanges(tenant, { axis: 'recorded', limit: 2, cursor: (await log.listChanges(tenant, { axis: 'hr', limit: 2 })).next! }), { name: 'InvalidCursorError' }, "a cursor of the other axis is refused")
  t.same(await log.listChanges('globex', { axis: 'hr', limit: 10 }), { data: [], next: null }, 'no other tenant sees them')

  // A rebuild projects the same change log; an erasure removes the employee's entries.
  const before = await list({})
  await rebuildViews({ eventStore: store, views } as unknown as Stores, createLogger('silent'))
  t.same(await list({}), before, 'rebuilt in one batch: the same entries')
  t.ok((await list({ userId: 'cyd' })).length > 0)
  await eraseEmployee({ store, keys, purgeViews: (_tx, tn, id) => purgeUserFromViews(viewDb, tn, id) /* the views live in another database here */ }, { tenant, employeeId: 'cyd', reason: 'ticket-2', actor: 'dpo' })
  t.same(await list({ userId: 'cyd' }), [], 'erased: no change-log entry left')
  await rebuildViews({ eventStore: store, views } as unknown as Stores, createLogger('silent'))
  t.same(await list({ userId: 'cyd' }), [], 'and a rebuild does not bring them back')
})
