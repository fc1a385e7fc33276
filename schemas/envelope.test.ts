import t from 'tap'
import { parseChangeEnvelope } from './envelope.ts'
import { ENTITY_ID_MAX_LENGTH } from './kombo.ts'

const envelope = (id: string) => ({
  tenant: 'acme',
  integrationId: 'personio:acme',
  resource: 'groups',
  fetchedAt: '2026-01-01T00:00:00.000Z',
  pollId: 'p1',
  record: { id, remote_id: null, changed_at: '2026-01-01T00:00:00.000Z', remote_deleted_at: null, name: 'Engineering', type: 'TEAM', parent_id: null },
})

t.test('a record id may be as long as the read API serves, and no longer (it is dead-lettered with the reason)', async (t) => {
  const longest = parseChangeEnvelope(envelope('g'.repeat(ENTITY_ID_MAX_LENGTH)))
  t.equal(longest.ok, true, `an id of ${ENTITY_ID_MAX_LENGTH} characters syncs`)
  const tooLong = parseChangeEnvelope(envelope('g'.repeat(5000)))
  t.equal(tooLong.ok, false, 'a 5,000-character id is refused (the processor dead-letters it with this reason)')
  if (!tooLong.ok) t.match(tooLong.reason, new RegExp(`invalid groups record .*<=${ENTITY_ID_MAX_LENGTH} characters[\\s\\S]*at id`))
})
