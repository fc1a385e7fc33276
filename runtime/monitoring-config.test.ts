// The monitoring files (docs/grafana/, docker-compose.yml) against the code: every metric the
// dashboard charts is one a kombo-sync process exports, and Prometheus scrapes the roles on the
// port compose gives them as METRICS_PORT.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createMetrics } from './metrics.ts'

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), 'utf8')

t.test('every metric in the Grafana dashboard is exported by kombo-sync', async (t) => {
  const dashboard = JSON.parse(read('docs/grafana/kombo-sync-dashboard.json')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> }
  const exported = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name))
  const charted = dashboard.panels.flatMap((p) => p.targets.flatMap((target) => [...target.expr.matchAll(/\b((?:kombo_sync|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1])))
  t.ok(charted.length > 10, `${charted.length} metric references found`)
  // Histograms and counters are charted by their series names (_bucket, _total is part of the name).
  const unknown = charted.filter((name) => !exported.has(name) && !exported.has(name.replace(/_(bucket|sum|count)$/, '')))
  t.same(unknown, [], 'no panel charts a metric nobody exports')
})

t.test('Prometheus scrapes the roles on the METRICS_PORT compose sets', async (t) => {
  const compose = read('docker-compose.yml')
  const prometheus = read('docs/grafana/prometheus.yml')
  const ports = [...compose.matchAll(/^\s+METRICS_PORT: (\d+)$/gm)].map((m) => m[1])
  t.same(ports, ['9464'], 'one METRICS_PORT, shared by the poller, processor and projector services')
  for (const role of ['poller', 'processor', 'projector']) {
    t.match(compose, new RegExp(`^  ${role}:\\n(?:    .*\\n)*?    environment: \\*?&?kombo-sync-metrics-env`, 'm'), `${role} gets METRICS_PORT`)
  }
  t.match(prometheus, /names: \[poller, processor, projector\]/)
  t.match(prometheus, new RegExp(`port: ${ports[0]}\\b`))
  t.match(prometheus, /targets: \["api:3000"\]/, 'the api role on its API port')
})
