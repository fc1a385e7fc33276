// The audit reads use the tenant's time zone like the views do (processors/domain/hr-dates.ts): a
// start date is a local calendar day, so at 23:30 UTC on the eve of it a Berlin employee has
// already started (00:00 Berlin = 23:00 UTC) while a UTC one is still pending.
import t from 'tap'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openSqlEventStore } from '../../processors/eventstore/sql.ts'
import { evolveEmployee, type EmployeeState } from '../../processors/domain/employee-state.ts'
import { createUserHistory } from '../history.ts'
import { changeEntryOf } from './change-entries.ts'
import { employeeStreamName } from '../../schemas/streams.ts'
import type { EmployeeEvent } from '../../schemas/events.ts'
import { anEmployee } from '../../test/support/kombo-fixtures.ts'
import { RecordedHistory } from '../../test/support/recorded-history.ts'

const tenant = 'acme'
const eve = '2026-02-28T23:30:00.000Z' // 00:30 on 1 March in Berlin, still 28 February in UTC

t.test('reads of the past and change entries evaluate HR dates in the tenant time zone', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlEventStore(db, { pollIntervalMs: 10 })
  t.teardown(() => store.close())
  const life = new RecordedHistory(store, tenant, { mode: 'manual' }, 'Europe/Berlin')
  // Recorded the day before its start date, with a last change in the HR system at the eve instant.
  await life.poll(anEmployee({ id: 'ada', start_date: '2026-03-01T00:00:00.000Z', changed_at: eve }), '2026-02-28T23:40:00.000Z')

  const axes = { asOf: new Date(eve), knownAt: new Date('2026-03-02T00:00:00.000Z') }
  const berlin = await createUserHistory(store, () => 'Europe/Berlin').userAt(tenant, 'ada', axes)
  const utc = await createUserHistory(store, () => 'UTC').userAt(tenant, 'ada', axes)
  t.ok(berlin.found && utc.found)
  if (!berlin.found || !utc.found) return
  t.equal(berlin.value.data.status, 'active', 'Berlin: started at 00:00 local on 1 March')
  t.equal(utc.value.data.status, 'pending', 'UTC: not before 00:00 UTC on 1 March')

  const [created] = await store.readStream(employeeStreamName(tenant, 'ada'))
  const after = evolveEmployee(null, { type: created.type, data: created.data } as EmployeeEvent) as EmployeeState
  const statusOf = (timeZone: string) => changeEntryOf(created, null, after, timeZone)?.changes.find((c) => c.field === 'status')?.after
  t.equal(statusOf('Europe/Berlin'), 'active', 'the change log creates the Berlin user active')
  t.equal(statusOf('UTC'), 'pending', 'and the UTC one pending')

  const history = await createUserHistory(store, () => 'Europe/Berlin').userHistory(tenant, 'ada')
  t.equal(history?.changes[0]?.changes.find((c) => c.field === 'status')?.after, 'active', 'the readable history uses the tenant zone too')
})
