// The pure halves of a re-link: matching (remote_id, then work email; ambiguous keys match nothing)
// and renaming a record by the aliases (its id and every reference).
import t from 'tap'
import { matchRecords } from './match.ts'
import { aliasRecord } from './apply-aliases.ts'

t.test('matches by remote_id first, then by work email case-insensitively; shared keys match nothing', async (t) => {
  const existing = [
    { entityId: 'a', remoteId: '1', workEmail: 'a@x.example' },
    { entityId: 'b', remoteId: '2', workEmail: 'b@x.example' },
    { entityId: 'c', remoteId: '3', workEmail: 'c@x.example' },
    { entityId: 'd', remoteId: null, workEmail: 'shared@x.example' },
    { entityId: 'e', remoteId: null, workEmail: 'shared@x.example' },
  ]
  const incoming = [
    { komboId: 'A', remoteId: '1', workEmail: 'someone-else@x.example' },
    { komboId: 'B', remoteId: '99', workEmail: 'B@X.example' },
    { komboId: 'C1', remoteId: '3', workEmail: null },
    { komboId: 'C2', remoteId: '3', workEmail: null },
    { komboId: 'D', remoteId: null, workEmail: 'shared@x.example' },
  ]
  const out = matchRecords(existing, incoming, { byWorkEmail: true })
  t.same(out.matches, [
    { komboId: 'A', entityId: 'a', matchedBy: 'remote_id' },
    { komboId: 'B', entityId: 'b', matchedBy: 'work_email' },
  ])
  t.same(out.unmatchedIncoming.map((r) => r.komboId), ['C1', 'C2', 'D'], 'a remote id two new records share, and an email two existing users share, match nobody')
  t.same(out.unmatchedExisting.map((e) => e.entityId), ['c', 'd', 'e'])
  t.same(matchRecords(existing, incoming, { byWorkEmail: false }).matches, [{ komboId: 'A', entityId: 'a', matchedBy: 'remote_id' }], 'no email pass for other resources')
  t.same(matchRecords([{ entityId: 'a', remoteId: '1', workEmail: null }], [{ komboId: 'a', remoteId: '1', workEmail: null }], { byWorkEmail: true }).matches, [], 'the same id needs no alias')
})

t.test('a record is renamed to the existing ids, references and embeds included; unaliased ones pass as they are', async (t) => {
  const aliases = new Map([
    ['employees', new Map([['E2', 'e1'], ['M2', 'm1']])],
    ['groups', new Map([['G2', 'g1']])],
    ['work-locations', new Map([['L2', 'l1']])],
    ['absence-types', new Map([['T2', 't1']])],
  ])
  const employee = { id: 'E2', changed_at: '2026-03-01T00:00:00Z', manager_id: 'M2', work_location_id: 'L2', legal_entity_id: 'X', groups: [{ id: 'G2', name: 'Payments' }, { id: 'NEW', name: 'New' }] }
  t.same(aliasRecord('employees', employee, aliases), { ...employee, id: 'e1', manager_id: 'm1', work_location_id: 'l1', groups: [{ id: 'g1', name: 'Payments' }, { id: 'NEW', name: 'New' }] })
  t.equal(employee.id, 'E2', 'the input is not changed')
  const absence = { id: 'AB', changed_at: '2026-03-01T00:00:00Z', employee_id: 'E2', approver_id: 'M2', type_id: 'T2', type: { id: 'T2', name: 'Vacation' } }
  t.same(aliasRecord('absences', absence, aliases), { ...absence, employee_id: 'e1', approver_id: 'm1', type_id: 't1', type: { id: 't1', name: 'Vacation' } })
  const stranger = { id: 'S', changed_at: '2026-03-01T00:00:00Z', manager_id: 'nobody' }
  t.equal(aliasRecord('employees', stranger, aliases), stranger, 'nothing to rename: the same object')
  t.equal(aliasRecord('employees', employee, new Map()), employee, 'a tenant never re-linked: untouched')
})
