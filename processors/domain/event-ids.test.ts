import t from 'tap'
import { validate, version } from 'uuid'
import { eventId } from './event-ids.ts'

t.test('an event id is a UUID v5 of tenant, stream, source version and type', async (t) => {
  const id = eventId('acme', 'employee-acme_e1', '2026-01-10T09:00:00.000Z', 'EmployeeImported')
  t.ok(validate(id))
  t.equal(version(id), 5)
  t.equal(eventId('acme', 'employee-acme_e1', '2026-01-10T09:00:00.000Z', 'EmployeeImported'), id, 'deterministic')
})

t.test('every part of the input changes the id', async (t) => {
  const parts: [string, string, string, string] = ['acme', 'employee-acme_e1', 'v1', 'EmployeeImported']
  const base = eventId(...parts)
  for (let i = 0; i < parts.length; i++) {
    const changed = [...parts] as typeof parts
    changed[i] += 'x'
    t.not(eventId(...changed), base, `part ${i}`)
  }
})
