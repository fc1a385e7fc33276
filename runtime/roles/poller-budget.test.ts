// The poller role's backlog budget counts the events the projector has not applied, not only the
// records the processors have not committed: with a poller and a processor on one PostgreSQL
// database and no projector, the processors drain the change log at once, yet the poller stops
// publishing after about one page over TENANT_BACKLOG_LIMIT (× ALONE_FACTOR: the only tenant), because the tenant's events pile up
// before the (absent) projector. Once a projector starts, the rest of the initial sync follows.
import t from 'tap'
import { loadConfig } from '../../config/config.ts'
import { startService, PROCESSOR_GROUP, type RunningService } from '../service.ts'
import { createLogger } from '../logger.ts'
import { startTestSimulator, TOKEN, type StoryClock } from '../../test/support/e2e-story.ts'
import { testPostgresUrl } from '../../test/support/postgres.ts'
import { settle, waitFor } from '../../test/support/wait-for.ts'
import { tenantStreamPrefixes } from '../../projections/tenant-progress.ts'
import { ALONE_FACTOR } from '../../producers/tenant-budget.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const EMPLOYEES = 300
const LIMIT = 10
/** The demo tenant is the only one polled: it may run ALONE_FACTOR × the limit ahead. */
const ALLOWED = LIMIT * ALONE_FACTOR
const PAGE = 100
const realClock: StoryClock = { now: () => new Date(), advance: () => {} }

async function polled(service: RunningService): Promise<number> {
  const { values } = await service.metrics.recordsPolled.get()
  return values.filter((v) => v.labels.tenant === 'demo').reduce((n, v) => n + v.value, 0)
}

t.test('without a projector the poller stops near the budget, though the processors committed everything', async (t) => {
  const databaseUrl = await testPostgresUrl(t)
  const simulator = await startTestSimulator(t, realClock, EMPLOYEES)
  const dataDir = mkdtempSync(join(tmpdir(), 'kombo-sync-poller-budget-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const env = {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    PORT: '0',
    DEMO_API_TOKEN: TOKEN,
    KOMBO_BASE_URL: simulator.url,
    KOMBO_API_KEY: 'budget-kombo-key',
    KOMBO_INTEGRATION_ID: 'demo',
    POLL_INTERVAL_MS: '200',
    CLOCK_INTERVAL_MS: '600000',
    TENANT_BACKLOG_LIMIT: String(LIMIT),
    TENANT_BACKLOG_CHECK_MS: '20',
    LOG_LEVEL: 'silent',
  }
  const start = async (role: 'processor' | 'poller' | 'projector') => {
    const service = await startService(loadConfig(env, role, { demoToken: () => TOKEN }), { logger: createLogger('silent'), now: realClock.now })
    t.teardown(() => service.stop())
    return service
  }
  const processor = await start('processor')
  const poller = await start('poller')

  // Past the allowance, and processed: the teams' and locations' small pages come first in a
  // round, so "something published and processed" alone could be before the budget had a say.
  await waitFor('the allowance published and processed', async () => (await polled(poller)) >= ALLOWED && (await processor.stores.changeLog.tenantPending(PROCESSOR_GROUP, 'demo')) === 0, 60_000)
  await settle(2000)
  t.equal(await processor.stores.changeLog.tenantPending(PROCESSOR_GROUP, 'demo'), 0, 'the processors are not what holds the poller')
  const published = await polled(poller)
  t.ok(published <= ALLOWED + 2 * PAGE, `published ${published} of the initial sync’s ${EMPLOYEES}+ records: held by the budget`)
  const unprojected = await processor.stores.eventStore.countAll({ streamPrefixes: tenantStreamPrefixes('demo'), upTo: 100_000 })
  t.ok(unprojected >= ALLOWED, `${unprojected} events wait for the projector`)

  const projector = await start('projector')
  await waitFor('every employee visible once a projector runs', async () => (await projector.stores.views.countUsers('demo')) >= EMPLOYEES, 120_000)
  t.ok((await polled(poller)) >= EMPLOYEES, 'the rest of the sync was published as the projector caught up')
})
