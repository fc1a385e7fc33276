// The initial sync's progress end to end on the embedded pipeline: GET /sync reports initialSync
// going to `done` with polled = the records the simulator served and visible = its employees.
import t from 'tap'
import { komboResources } from '../../schemas/kombo.ts'
import { apiClient, caughtUp, controllableClock, startTestService, startTestSimulator, syncNow } from '../support/e2e-story.ts'

t.test('initialSync goes to done with every published record processed and every employee visible', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock, 40)
  const company = simulator.integration('demo')
  const published = komboResources.reduce((n, r) => n + company.list(r).length, 0)
  const employees = company.list('employees').length
  const { service } = await startTestService(t, { simulator, clock })
  const api = apiClient(service)
  await syncNow(service)
  await caughtUp(service)
  const { status, body } = await api.get('/sync')
  t.equal(status, 200)
  t.ok(Array.isArray(body.data) && body.data.length === komboResources.length, 'the per-resource data array is kept')
  t.match(body.initialSync, { state: 'done', polled: published, visible: employees })
  t.ok(body.initialSync.processed >= published, `processed ${body.initialSync.processed} of ${published}`)
  t.ok(Date.parse(body.initialSync.finishedAt) >= Date.parse(body.initialSync.startedAt), 'finished after it started')
})
