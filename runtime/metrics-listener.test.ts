import t from 'tap'
import { Counter, Registry } from 'prom-client'
import { startMetricsListener } from './metrics-listener.ts'

t.test('the metrics listener serves its registry, liveness, and nothing else', async (t) => {
  const registry = new Registry()
  const counter = new Counter({ name: 'listener_test_total', help: 'a test counter', registers: [registry] })
  counter.inc(3)
  const listener = await startMetricsListener(registry, { host: '127.0.0.1', port: 0 })
  t.teardown(() => listener.stop())
  t.match(listener.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.not(listener.url, 'http://127.0.0.1:0', 'the port actually bound is reported')

  const metrics = await fetch(`${listener.url}/metrics`)
  t.equal(metrics.status, 200)
  t.equal(metrics.headers.get('content-type'), registry.contentType)
  t.match(await metrics.text(), /^listener_test_total 3$/m)

  const live = await fetch(`${listener.url}/health/live`)
  t.same([live.status, await live.json()], [200, { status: 'ok' }])
  t.equal((await fetch(`${listener.url}/v1/tenants/demo/users`)).status, 404, 'no tenant data on this port')
  t.equal((await fetch(`${listener.url}/metrics`, { method: 'POST', body: 'x' })).status, 405)
})

t.test('a failing collector answers 500 and is reported, the listener keeps serving', async (t) => {
  const registry = new Registry()
  new Counter({ name: 'listener_broken_total', help: 'x', registers: [registry], collect: () => { throw new Error('collector broke') } })
  const errors: Error[] = []
  const listener = await startMetricsListener(registry, { host: '127.0.0.1', port: 0, onError: (err) => errors.push(err) })
  t.teardown(() => listener.stop())
  t.equal((await fetch(`${listener.url}/metrics`)).status, 500)
  t.match(errors.map((e) => e.message), [/collector broke/])
  t.equal((await fetch(`${listener.url}/health/live`)).status, 200)
})

t.test('a port in use is an error at start', async (t) => {
  const first = await startMetricsListener(new Registry(), { host: '127.0.0.1', port: 0 })
  t.teardown(() => first.stop())
  const port = Number(new URL(first.url).port)
  await t.rejects(startMetricsListener(new Registry(), { host: '127.0.0.1', port }), { code: 'EADDRINUSE' })
})
