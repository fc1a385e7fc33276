import t from 'tap'
import { v5 as uuidv5, validate, version } from 'uuid'
import { EVENT_ID_NAMESPACE, eventId, namespaceBytes, namespacedId } from './event-ids.ts'

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

t.test("namespacedId gives uuid's own v5 of the name, whatever the characters", async (t) => {
  const names = ['', 'a', 'acme|employee-acme_e1|2026-01-10T09:00:00.000Z|EmployeeImported', 'Zoë Müller|ß|東京|😀|\u0000|%41|+ &?']
  // Random names over ASCII, Latin-1, the BMP beyond it and astral characters (no lone surrogates:
  // uuid's string path throws on those).
  const pool = ['a', 'Z', '|', '-', '0', '%', 'é', 'ÿ', 'ł', '€', '東', '😀', '\n', ' ']
  for (let i = 0; i < 500; i++) names.push(Array.from({ length: i % 40 }, (_, j) => pool[(i * 7 + j * 13) % pool.length]).join(''))
  for (const ns of [EVENT_ID_NAMESPACE, '1fffb01a-59f8-4642-a393-f7a8950dd323']) {
    const bytes = namespaceBytes(ns)
    const differing = names.filter((name) => namespacedId(name, bytes) !== uuidv5(name, ns))
    t.same(differing, [], `namespace ${ns}`)
  }
  t.equal(eventId('acme', 'employee-acme_e1', 'v1', 'EmployeeImported'), uuidv5('acme|employee-acme_e1|v1|EmployeeImported', EVENT_ID_NAMESPACE), 'eventId is the v5 of its joined parts, as before')
})
