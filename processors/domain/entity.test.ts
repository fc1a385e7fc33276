// Teams, locations, legal entities, absence types, absences: one generic decide/evolve.
import t from 'tap'
import { DomainEvent } from '../../schemas/events.ts'
import { aGroup, later } from '../../test/support/kombo-fixtures.ts'
import { decideEntityEvents, evolveEntity, foldEntity, entityPrefixes, type EntityPrefix, type EntityState } from './index.ts'

const ctx = { tenant: 'acme' }

/** Decides, checks every event against the catalogue, folds, returns both. */
function step(prefix: EntityPrefix, state: EntityState | null, record: Parameters<typeof decideEntityEvents>[2]) {
  const events = decideEntityEvents(prefix, state, record, ctx)
  for (const e of events) DomainEvent.parse({ type: e.type, data: e.data })
  return { events, state: events.reduce<EntityState | null>(evolveEntity, state) }
}

for (const prefix of entityPrefixes) {
  t.test(`${prefix}: first sight imports the snapshot`, async (t) => {
    const { events, state } = step(prefix, null, aGroup({ extra: 1 }))
    t.same(events.map((e) => e.type), [`${prefix}Imported`])
    t.match(events[0].data, { tenant: 'acme', entityId: 'grp-1', changedAt: aGroup().changed_at })
    t.equal(state?.record.extra, 1)
  })
}

t.test('a changed record gives one Changed event with just the changed keys', async (t) => {
  const first = step('Team', null, aGroup({ extra: 1 }))
  const { events, state } = step('Team', first.state, { ...aGroup({ name: 'Core', new_field: 'x' }), changed_at: later(1) })
  t.same(events.map((e) => e.type), ['TeamChanged'])
  t.same((events[0].data as { changes: unknown }).changes, { name: 'Core', new_field: 'x', extra: null })
  t.equal(state?.record.name, 'Core')
  t.equal(state?.changedAt, later(1))
})

t.test('identical or older records decide nothing', async (t) => {
  const first = step('Location', null, { ...aGroup(), changed_at: later(5) })
  t.same(decideEntityEvents('Location', first.state, { ...aGroup(), changed_at: later(6) }, ctx), [], 'identical content')
  t.same(decideEntityEvents('Location', first.state, { ...aGroup({ name: 'Old' }), changed_at: later(1) }, ctx), [], 'older')
})

t.test('deleted in source, then restored', async (t) => {
  const first = step('Team', null, aGroup())
  const deleted = step('Team', first.state, { ...aGroup({ remote_deleted_at: later(1) }), changed_at: later(1) })
  t.same(deleted.events.map((e) => e.type), ['TeamDeletedInSource'])
  t.equal(deleted.state?.deleted, true)
  const restored = step('Team', deleted.state, { ...aGroup({ name: 'Back' }), changed_at: later(2) })
  t.same(restored.events.map((e) => e.type), ['TeamRestoredInSource', 'TeamChanged'])
  t.equal(restored.state?.deleted, false)
  t.equal(restored.state?.record.name, 'Back')
})

t.test('ids are deterministic and differ between kinds of entity', async (t) => {
  const a = decideEntityEvents('Team', null, aGroup(), ctx)
  t.same(decideEntityEvents('Team', null, aGroup(), ctx), a)
  t.not(decideEntityEvents('Location', null, aGroup(), ctx)[0].id, a[0].id)
})

t.test('fold ignores changes before the import, and applies later ones', async (t) => {
  const imported = decideEntityEvents('AbsenceType', null, aGroup(), ctx)
  const state = foldEntity([
    { type: 'AbsenceChanged', data: { tenant: 'acme', entityId: 'grp-1', changedAt: later(9), changes: { name: 'x' } } },
    ...imported,
    { type: 'AbsenceTypeChanged', data: { tenant: 'acme', entityId: 'grp-1', changedAt: later(1), changes: { name: 'Sick' } } },
  ])
  t.equal(state?.record.name, 'Sick')
  t.equal(state?.changedAt, later(1))
})
