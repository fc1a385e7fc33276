// The decider registry: every stream kind has exactly one row, and what is derived from it (stream
// names and their parser, resource → category, the projected prefixes) agrees with it. The entity
// deciders as given / when / then.
import t from 'tap'
import { komboResources } from '../../schemas/kombo.ts'
import { ourStreamPrefixes, parseStreamName, streamCategories, streamCategoryList, streamKinds, streamName } from '../../schemas/streams.ts'
import { projectedStreamPrefixes } from '../../projections/projector.ts'
import { DeciderSpecification } from '../../test/support/decider-specification.ts'
import { aGroup, later } from '../../test/support/kombo-fixtures.ts'
import { streamDeciders, streamKindOf, streamKindOfResource } from './stream-kinds.ts'

t.test('one row per stream kind, one kind per Kombo resource', async (t) => {
  t.same(Object.keys(streamDeciders).sort(), [...streamCategoryList].sort())
  t.same(streamCategoryList.map((c) => streamKinds[c].resource).sort(), [...komboResources].sort(), 'every resource exactly once')
  for (const resource of komboResources) {
    const kind = streamKindOfResource(resource)
    t.equal(kind.resource, resource)
    t.equal(streamCategories[resource], kind.category)
    t.equal(streamKindOf(kind.category), kind)
  }
})

t.test('stream names parse back to their parts for every category, the longer of two similar ones included', async (t) => {
  for (const category of streamCategoryList) {
    t.same(parseStreamName(streamName(category, 'acme-2', 'id_with_underscores')), { category, tenant: 'acme-2', komboId: 'id_with_underscores' }, category)
  }
  t.equal(parseStreamName('absenceType-acme_x')?.category, 'absenceType')
  t.equal(parseStreamName('absence-acme_x')?.category, 'absence')
  t.equal(parseStreamName('erasure-acme'), null, 'the erasure audit stream is not a projected kind')
  t.equal(parseStreamName('$stats-acme_x'), null)
  t.same(projectedStreamPrefixes, [...ourStreamPrefixes])
  t.same([...ourStreamPrefixes].sort(), streamCategoryList.map((c) => `${c}-`).sort())
})

t.test('each entity decider speaks its own vocabulary', async (t) => {
  const context = { tenant: 'acme', now: new Date('2026-02-01T00:00:00Z'), invitePolicy: { mode: 'manual' as const }, timeZone: 'UTC' }
  const team = aGroup({ id: 'grp-1' })
  const given = DeciderSpecification.for(streamDeciders.team, t)
  const base = (changedAt: string) => ({ tenant: 'acme', entityId: 'grp-1', changedAt })
  const imported = { type: 'TeamImported' as const, data: { ...base(team.changed_at), snapshot: { ...team } } }

  given([]).when({ type: 'ObserveRecord', record: team, context }).then([imported])
  given([imported]).when({ type: 'ObserveRecord', record: { ...team, changed_at: later(5), name: 'Core' }, context }).then([
    { type: 'TeamChanged', data: { ...base(later(5)), changes: { name: 'Core' } } },
  ])
  given([imported]).when({ type: 'ObserveRecord', record: { ...team, changed_at: later(5), remote_deleted_at: later(5) }, context }).then([
    { type: 'TeamDeletedInSource', data: { ...base(later(5)), remote_deleted_at: later(5) } },
  ])
  given([imported]).when({ type: 'ObserveRecord', record: team, context }).thenNothingHappened()

  for (const category of streamCategoryList.filter((c) => c !== 'employee')) {
    const [event] = streamKindOf(category).decide({ type: 'ObserveRecord', record: { id: 'x', changed_at: later(0) }, context }, null)
    t.equal(event.type, `${streamKinds[category].eventPrefix}Imported`, `${category} imports as ${streamKinds[category].eventPrefix}Imported`)
  }
})
