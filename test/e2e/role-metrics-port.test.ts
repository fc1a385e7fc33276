// Roles run apart serve their own /metrics on METRICS_PORT (the api role serves it on PORT): a
// poller and a processor as child processes on one PostgreSQL database (SQL change log), the
// poller polling its embedded simulator. Each one's metrics show its own work: the poller's the
// records it polled, the processor's the records it processed.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startChildService, type ChildService } from '../support/child-service.ts'
import { testPostgresUrl } from '../support/postgres.ts'
import { waitFor } from '../support/wait-for.ts'

const metricsUrlOf = (child: ChildService): string => {
  const m = /no read API in this process; metrics: (http:\/\/\S+\/metrics)/.exec(child.output())
  if (!m) throw new Error(`no metrics URL in the start line:\n${child.output().slice(-2000)}`)
  return m[1]
}

const scrape = async (url: string): Promise<string> => {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`)
  return res.text()
}

/** The sum of a counter's samples whose labels match `labels` (a regex source). */
const total = (text: string, name: string, labels = ''): number =>
  [...text.matchAll(new RegExp(`^${name}\\{[^}]*${labels}[^}]*\\} (\\d+(?:\\.\\d+)?)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0)

t.test('poller and processor run apart each serve /metrics on METRICS_PORT', async (t) => {
  const databaseUrl = await testPostgresUrl(t)
  const dataDir = mkdtempSync(join(tmpdir(), 'kombo-sync-role-metrics-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const env = {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    DEMO_API_TOKEN: 'role-metrics-demo-token-0123',
    METRICS_PORT: '0',
    POLL_INTERVAL_MS: '500',
    SIMULATOR_EMPLOYEES: '20',
    LOG_LEVEL: 'warn',
  }
  const poller = await startChildService(env, 90_000, 'poller')
  t.teardown(() => poller.stop())
  const processor = await startChildService(env, 90_000, 'processor')
  t.teardown(() => processor.stop())

  const pollerMetrics = metricsUrlOf(poller)
  const processorMetrics = metricsUrlOf(processor)
  t.not(pollerMetrics, processorMetrics, 'each process its own port')
  t.equal((await fetch(pollerMetrics.replace(/\/metrics$/, '/health/live'))).status, 200)

  await waitFor('the poller reports records polled for the demo tenant', async () => total(await scrape(pollerMetrics), 'kombo_sync_records_polled_total', 'tenant="demo"') >= 20, 60_000, 250)
  await waitFor('the processor reports records processed', async () => total(await scrape(processorMetrics), 'kombo_sync_records_processed_total') >= 20, 60_000, 250)
  // Each registry is its own process's: the poller processed nothing, the processor polled nothing.
  t.equal(total(await scrape(pollerMetrics), 'kombo_sync_records_processed_total'), 0)
  t.equal(total(await scrape(processorMetrics), 'kombo_sync_records_polled_total'), 0)
  t.match(await scrape(processorMetrics), /^process_resident_memory_bytes \d+/m, 'the default process metrics too')
})
