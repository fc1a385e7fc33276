// The whole pipeline on the embedded adapters (SQL change log → SQL event store → PGlite views →
// API), fed by a Kombo simulator over HTTP, driven through the employee story; then a restart on
// the same data directory must lose and duplicate nothing.
import t from 'tap'
import {
  startTestService,
  startTestSimulator,
  runEmployeeStory,
  canonicalDump,
  syncNow,
  controllableClock,
} from '../support/e2e-story.ts'

t.test('embedded pipeline: the employee story', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock)
  const { service } = await startTestService(t, { simulator, clock })
  await runEmployeeStory(t, service, simulator, clock)
})

t.test('embedded pipeline: a restart on the same data directory loses and duplicates nothing', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock)
  const first = await startTestService(t, { simulator, clock })
  await syncNow(first.service)
  const before = await canonicalDump(first.service)
  t.ok(before.events.length > 25, 'the first run appended events')
  await first.service.stop()

  const second = await startTestService(t, { simulator, clock, env: { DATA_DIR: first.dataDir } })
  await syncNow(second.service)
  const after = await canonicalDump(second.service)
  t.same(after.events, before.events, 'same events after a restart and a re-poll')
  t.same(after.users, before.users, 'same views')

  // A change made while the service was down arrives after the restart, once.
  const company = simulator.integration('demo')
  const someone = company.list('employees')[0] as { id: string }
  company.update('employees', someone.id, { job_title: 'Chief Restart Officer' })
  await syncNow(second.service)
  const events = await second.service.stores.eventStore.readStream(`employee-demo_${someone.id}`)
  t.equal(events.filter((e) => e.type === 'EmployeeJobTitleChanged').length, 1, 'the change is appended once')
})
