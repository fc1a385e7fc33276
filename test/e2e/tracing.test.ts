// One trace per change record across the pipeline: the poller's publish, the processor's append and
// the projector's view write share the record's trace id (its traceparent travels in the change
// log and in the appended events' metadata); API requests get spans of their own.
import t from 'tap'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { startTracing } from '../../runtime/tracing-sdk.ts'
import { apiClient, controllableClock, startTestService, startTestSimulator, syncNow } from '../support/e2e-story.ts'

t.test('a change record is one trace from the poll to the view write', async (t) => {
  const exporter = new InMemorySpanExporter()
  const tracing = startTracing({ serviceName: 'kombo-sync-test', exporter })!
  t.teardown(() => tracing.shutdown())
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock, 5)
  const { service } = await startTestService(t, { simulator, clock })
  await syncNow(service)
  const someone = simulator.integration('demo').list('employees')[0] as { id: string }
  exporter.reset()
  simulator.integration('demo').update('employees', someone.id, { job_title: 'Tracer' })
  await syncNow(service)

  const spans = exporter.getFinishedSpans()
  const publish = spans.find((s) => s.name === 'publish employees' && s.attributes['kombo_sync.entity'] === someone.id)
  t.ok(publish, 'the poller started a trace for the changed record')
  const traceId = publish!.spanContext().traceId
  const inTrace = spans.filter((s) => s.spanContext().traceId === traceId).map((s) => s.name)
  t.ok(inTrace.includes('process employees'), `the processor's append is in the record's trace (${inTrace.join(', ')})`)
  t.ok(inTrace.includes('project employee'), "the projector's view write is in the record's trace")
  const others = spans.filter((s) => s.name === 'publish employees' && s.spanContext().traceId !== traceId)
  t.same(others, [], 'no other employee changed, so no other employee trace')

  const api = apiClient(service)
  await api.get(`/users/${someone.id}`)
  const request = exporter.getFinishedSpans().find((s) => s.name === 'GET /v1/tenants/:tenant/users/:id')
  t.ok(request, 'the API request has a span named by its route pattern, without the id')
  t.equal(request!.attributes['http.response.status_code'], 200)
})
