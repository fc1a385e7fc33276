// Data minimisation end to end on the embedded pipeline: employees whose Kombo records carry every
// sensitive field (ssn, tax id, bank accounts, home address, private contact details, date of
// birth, gender, ethnicity, marital status, pay in employments, a field Kombo may add later) leave
// no trace in any table (change log, event store, views, dead letters …), in the event store read
// decrypted, in what the API serves, or in the logs (captured at trace level).
import t from 'tap'
import { Writable } from 'node:stream'
import { createLogger } from '../../runtime/logger.ts'
import { apiClient, controllableClock, startTestService, startTestSimulator, syncNow } from '../support/e2e-story.ts'
import { apiText, databaseDump, eventStoreText } from '../support/no-trace.ts'
import { sensitiveEmployeeFields, tracesIn } from '../support/sensitive-fields.ts'

t.test('sensitive fields Kombo sends leave no trace anywhere', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock)
  const company = simulator.integration('demo')
  const someone = company.list('employees')[2]!
  company.update('employees', someone.id, { ...structuredClone(sensitiveEmployeeFields) })
  const hired = company.hire({ first_name: 'Senta', last_name: 'Sitiv', work_email: 'senta@example.test', ...structuredClone(sensitiveEmployeeFields) })
  const absence = company.list('absences')[0]!
  company.update('absences', absence.id, { employee_note: 'NOTE-TRACE: doctor appointment' })

  // The test means something only if Kombo (the simulator) really sends all of it.
  const served = await fetch(`${simulator.url}/hris/employees?page_size=250&include_deleted=true`, { headers: { authorization: 'Bearer k', 'x-integration-id': 'demo' } })
  const servedText = await served.text()
  t.ok(tracesIn(servedText).length >= 30, `the simulator serves the sensitive fields (${tracesIn(servedText).length} traces)`)

  let logs = ''
  const capture = new Writable({ write: (chunk, _enc, done) => ((logs += String(chunk)), done()) })
  const { service } = await startTestService(t, { simulator, clock, env: { LOG_LEVEL: 'trace' }, logger: createLogger('trace', capture) })
  await syncNow(service)
  const api = apiClient(service)
  t.equal((await api.user(hired.id))?.displayName, 'Senta Sitiv', 'the directory got what it needs')
  t.equal((await api.user(someone.id))?.externalId, someone.id)

  // A change only in dropped fields is no change at all: nothing is appended for it.
  const before = (await service.stores.eventStore.readAll({ maxCount: 1_000_000 })).length
  company.update('employees', hired.id, { ssn: 'SSN-TRACE-CHANGED', employments: [{ ...(sensitiveEmployeeFields.employments as object[])[0], pay_rate: 987654.321 + 1 }] })
  await syncNow(service)
  t.equal((await service.stores.eventStore.readAll({ maxCount: 1_000_000 })).length, before, 'a pay rise or a new ssn appends nothing')

  const tables = await databaseDump(service)
  t.ok(Object.keys(tables).length >= 5, `searched ${Object.keys(tables).length} tables: ${Object.keys(tables).join(', ')}`)
  t.ok(Object.values(tables).some((text) => text.includes(hired.id)), 'the tables do hold the employee (the search looks in the right place)')
  for (const [table, text] of Object.entries(tables)) {
    t.same(tracesIn(text), [], `table ${table}`)
    t.notOk(text.includes('NOTE-TRACE'), `table ${table}: no absence note`)
  }
  t.same(tracesIn(await eventStoreText(service)), [], 'the event store, decrypted')
  t.same(tracesIn(await apiText(service, [someone.id, hired.id])), [], 'the read API')
  t.ok(logs.length > 1000, `logs were captured (${logs.length} bytes)`)
  t.same(tracesIn(logs), [], 'the logs')
  t.notOk(logs.includes('NOTE-TRACE'), 'the logs: no absence note')
})
