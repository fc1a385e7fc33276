// The rebuild's deferred users (deferred-users.ts): a batch records the users it would recompute;
// they wait only once the batch commits; the settling batch sees them all, once each, and nothing
// waits after it; an erased employee is forgotten as a user and as a manager.
import t from 'tap'
import { DeferredUsers } from './deferred-users.ts'
import { streamName } from '../schemas/streams.ts'

const none = new Set<string>()
const users = (employeeIds: string[], refs: { managerIds?: string[]; teamIds?: string[]; locationIds?: string[] } = {}) => ({
  employeeIds,
  managerIds: refs.managerIds ?? employeeIds,
  teamIds: refs.teamIds ?? [],
  locationIds: refs.locationIds ?? [],
})
const sorted = (entry: { employeeIds: Set<string>; managerIds: Set<string>; teamIds: Set<string>; locationIds: Set<string> } | undefined) =>
  entry && { employeeIds: [...entry.employeeIds].sort(), managerIds: [...entry.managerIds].sort(), teamIds: [...entry.teamIds].sort(), locationIds: [...entry.locationIds].sort() }

t.test('a batch\'s users wait once it commits; the settling batch sees them all once; then nothing waits', async (t) => {
  const deferred = new DeferredUsers()
  const first = deferred.stage(none)
  first.defer('acme', users(['e1', 'e2'], { managerIds: ['e1', 'e2'], teamIds: ['t1'] }))
  first.defer('globex', users(['g1']))
  first.commit(false)
  t.equal(deferred.size, 3, 'e1, e2 and g1 wait')

  const second = deferred.stage(none)
  second.defer('acme', users(['e2', 'e3'], { locationIds: ['l1'] }))
  t.same(sorted(second.all().get('acme')), { employeeIds: ['e1', 'e2', 'e3'], managerIds: ['e1', 'e2', 'e3'], teamIds: ['t1'], locationIds: ['l1'] }, 'waiting and staged together, each id once')
  t.same(sorted(second.all().get('globex')), { employeeIds: ['g1'], managerIds: ['g1'], teamIds: [], locationIds: [] })
  second.commit(true)
  t.equal(deferred.size, 0, 'written by the settling batch: nothing waits')
  t.same(deferred.stage(none).all(), new Map())
})

t.test('a batch that fails (never commits) leaves what waits as it was', async (t) => {
  const deferred = new DeferredUsers()
  const ok = deferred.stage(none)
  ok.defer('acme', users(['e1']))
  ok.commit(false)
  const failed = deferred.stage(none)
  failed.defer('acme', users(['e2'], { teamIds: ['t1'] }))
  // Its transaction rolled back: no commit. The retry stages again from what waits.
  const retried = deferred.stage(none)
  t.same(sorted(retried.all().get('acme')), { employeeIds: ['e1'], managerIds: ['e1'], teamIds: [], locationIds: [] })
})

t.test('an employee erased since is dropped as a user and as a manager, in its tenant only', async (t) => {
  const deferred = new DeferredUsers()
  const batch = deferred.stage(none)
  batch.defer('acme', users(['e1', 'e2'], { teamIds: ['t1'] }))
  batch.defer('globex', users(['e1']))
  batch.commit(false)
  const next = deferred.stage(new Set([streamName('employee', 'acme', 'e1')]))
  t.same(sorted(next.all().get('acme')), { employeeIds: ['e2'], managerIds: ['e2'], teamIds: ['t1'], locationIds: [] }, "acme's e1 is neither written back nor recomputed for as a manager")
  t.same(sorted(next.all().get('globex')), { employeeIds: ['e1'], managerIds: ['e1'], teamIds: [], locationIds: [] }, "another tenant's e1 stays")
  t.equal(deferred.size, 2)
})

t.test('clear forgets what waits (the runner restarts from the settled checkpoint)', async (t) => {
  const deferred = new DeferredUsers()
  const batch = deferred.stage(none)
  batch.defer('acme', users(['e1']))
  batch.commit(false)
  deferred.clear()
  t.equal(deferred.size, 0)
})
