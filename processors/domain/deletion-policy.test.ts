// Kombo's deletion policy: a record marked deleted (remote_deleted_at) has every other field nulled
// 14 days later. That purge is no HR change: the last known values stay, the purge is recorded once,
// and a restore afterwards brings the fields back as usual.
import t from 'tap'
import { DomainEvent } from '../../schemas/events.ts'
import { aGroup, anEmployee } from '../../test/support/kombo-fixtures.ts'
import { EmployeeScenario, typesOf } from '../../test/support/employee-scenario.ts'
import { toLearnAmpUser } from '../../projections/mapping/learnamp-user.ts'
import { decideEntityEvents, entityPrefixes, evolveEntity, isPurgedRecord, type EntityState } from './index.ts'

const DELETED_AT = '2026-02-01T08:00:00.000Z'
const NULLED_AT = '2026-02-15T08:00:00.000Z'
const RESTORED_AT = '2026-03-01T08:00:00.000Z'
const noLookups = { team: () => undefined, location: () => undefined, employee: () => undefined }

/** An employee record as Kombo serves it after the deletion policy nulled it. */
const purgedEmployee = (changedAt: string) => {
  const record: Record<string, unknown> = {}
  for (const key of Object.keys(anEmployee())) record[key] = null
  return { ...record, id: 'emp-1', changed_at: changedAt, remote_deleted_at: DELETED_AT, groups: [] } as ReturnType<typeof anEmployee>
}

t.test('a purged record is recognised; a deleted record with its values, or a live one, is not', async (t) => {
  t.equal(isPurgedRecord(purgedEmployee(NULLED_AT)), true)
  t.equal(isPurgedRecord(anEmployee({ remote_deleted_at: DELETED_AT })), false)
  t.equal(isPurgedRecord({ id: 'x', changed_at: NULLED_AT, remote_deleted_at: null, name: null }), false, 'not deleted: nulls are changes')
})

t.test('employee: deletion, then the 14-day nulling, then a restore', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee(), '2026-01-10T10:00:00.000Z')
  t.same(typesOf(s.record(anEmployee({ changed_at: DELETED_AT, remote_deleted_at: DELETED_AT }), DELETED_AT)), ['EmployeeDeletedInSource', 'UserDeactivated'])

  const purge = s.record(purgedEmployee(NULLED_AT), NULLED_AT)
  t.same(typesOf(purge), ['EmployeePurgedInSource'], 'the purge alone, no field changes')
  t.match(purge[0].data, { remote_deleted_at: DELETED_AT, changedAt: NULLED_AT })
  t.equal(s.state?.purged, true)
  t.match(s.state?.record, { first_name: 'Ada', work_email: 'ada@example.com', job_title: 'Engineer', groups: [{ id: 'grp-1' }] }, 'last known values kept')
  const user = toLearnAmpUser(s.state!, noLookups, new Date(NULLED_AT), 'UTC')
  t.match(user, { firstName: 'Ada', email: 'ada@example.com', jobTitle: 'Engineer', status: 'deactivated', deactivationReason: 'deleted_in_source' })

  t.same(s.record(purgedEmployee('2026-02-20T08:00:00.000Z'), '2026-02-20T08:00:00.000Z'), [], 'recorded once: the purged record again adds nothing')

  const restored = s.record(anEmployee({ changed_at: RESTORED_AT, job_title: 'Staff Engineer' }), RESTORED_AT)
  t.same(typesOf(restored), ['EmployeeRestoredInSource', 'EmployeeJobTitleChanged', 'UserReactivated'], 'a restore diffs against the kept values')
  t.equal(s.state?.purged, false)
  t.match(toLearnAmpUser(s.state!, noLookups, new Date(RESTORED_AT), 'UTC'), { firstName: 'Ada', jobTitle: 'Staff Engineer', status: 'active' })
})

t.test('employee: a purged record seen before its deletion was recorded deletes and purges at once', async (t) => {
  const s = new EmployeeScenario()
  s.record(anEmployee(), '2026-01-10T10:00:00.000Z')
  t.same(typesOf(s.record(purgedEmployee(NULLED_AT), NULLED_AT)), ['EmployeeDeletedInSource', 'EmployeePurgedInSource', 'UserDeactivated'])
  t.match(s.state?.record, { first_name: 'Ada', remote_deleted_at: DELETED_AT })
})

for (const prefix of entityPrefixes) {
  t.test(`${prefix}: deletion, 14-day nulling, restore`, async (t) => {
    let state: EntityState | null = null
    const step = (record: Parameters<typeof decideEntityEvents>[2]) => {
      const events = decideEntityEvents(prefix, state, record, { tenant: 'acme' })
      for (const e of events) DomainEvent.parse({ type: e.type, data: e.data }) // declared in schemas/events.ts
      state = events.reduce<EntityState | null>(evolveEntity, state)
      return events.map((e) => e.type)
    }
    step(aGroup())
    t.same(step(aGroup({ changed_at: DELETED_AT, remote_deleted_at: DELETED_AT })), [`${prefix}DeletedInSource`])
    const nulled = { id: 'grp-1', changed_at: NULLED_AT, remote_deleted_at: DELETED_AT, remote_id: null, name: null, type: null, parent_id: null }
    t.same(step(nulled), [`${prefix}PurgedInSource`])
    t.match(state, { deleted: true, purged: true, record: { name: 'Platform', type: 'TEAM', remote_id: 'G-1' } }, 'last known values kept')
    t.same(step({ ...nulled, changed_at: '2026-02-20T08:00:00.000Z' }), [], 'once')
    t.same(step(aGroup({ changed_at: RESTORED_AT, name: 'Platform Core' })), [`${prefix}RestoredInSource`, `${prefix}Changed`])
    t.match(state, { deleted: false, purged: false, record: { name: 'Platform Core', type: 'TEAM' } })
  })
}
