import t from 'tap'
import { loadConfig, ConfigError, sha256, DEFAULT_TENANT_BACKLOG_LIMIT } from './config.ts'

const demoToken = () => 'generated-demo-token-0123456789'

t.test('no configuration at all: embedded everything, demo tenant', async (t) => {
  const c = loadConfig({}, 'all', { demoToken })
  t.equal(c.kombo, null, 'simulator is used')
  t.equal(c.kafka, null)
  t.equal(c.eventStoreConnectionString, null)
  t.equal(c.databaseUrl, null)
  t.equal(c.tenants.length, 1)
  t.equal(c.tenants[0].id, 'demo')
  t.equal(c.demoToken, 'generated-demo-token-0123456789')
  t.same(c.tenants[0].tokenSha256, [sha256('generated-demo-token-0123456789')])
  t.equal(c.http.port, 3000)
})

t.test('DEMO_API_TOKEN and PORT are honoured', async (t) => {
  const c = loadConfig({ DEMO_API_TOKEN: 'my-own-demo-token-xyz', PORT: '8080', DATABASE_URL: 'postgres://db/kombo' }, 'api', { demoToken })
  t.equal(c.demoToken, 'my-own-demo-token-xyz')
  t.equal(c.http.port, 8080)
  t.equal(c.role, 'api')
})

t.test('invalid settings are reported by name', async (t) => {
  const missing = t.throws(() => loadConfig({ KOMBO_BASE_URL: 'https://api.kombo.dev/v1', KAFKA_BROKERS: 'x:9092' }, 'all', { demoToken })) as Error
  t.type(missing, ConfigError)
  t.match(missing.message, /KOMBO_API_KEY is required/, 'both missing companions are listed together')
  t.match(missing.message, /SCHEMA_REGISTRY_URL is required/)
  const badPort = t.throws(() => loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud' }, 'all', { demoToken })) as Error
  t.match(badPort.message, /PORT/)
  t.match(badPort.message, /LOG_LEVEL/)
})

t.test('a single role needs a shared database', async (t) => {
  t.throws(() => loadConfig({}, 'processor', { demoToken }), /role "processor" runs apart .* set DATABASE_URL/)
  t.equal(loadConfig({ DATABASE_URL: 'postgres://db/kombo' }, 'processor', { demoToken }).role, 'processor')
})

t.test('unknown role', async (t) => {
  t.throws(() => loadConfig({}, 'worker', { demoToken }), /unknown role "worker"/)
})

t.test('tenants file: validated, duplicates rejected, key never echoed', async (t) => {
  const good = { tenants: [{ id: 'acme', integrationId: 'personio:acme', tokenSha256: [sha256('t1')], invitePolicy: { mode: 'immediate' } }] }
  const c = loadConfig({ TENANTS_FILE: 'tenants.json', KOMBO_BASE_URL: 'https://api.kombo.dev/v1', KOMBO_API_KEY: 'secret-key-123' }, 'all', {
    demoToken,
    readFile: () => JSON.stringify(good),
  })
  t.equal(c.tenants[0].id, 'acme')
  t.equal(c.demoToken, null)
  t.same(c.kombo, { baseUrl: 'https://api.kombo.dev/v1', apiKey: 'secret-key-123' })

  const dup = { tenants: [good.tenants[0], good.tenants[0]] }
  const err = t.throws(() =>
    loadConfig({ TENANTS_FILE: 't.json', KOMBO_API_KEY: 'secret-key-123' }, 'all', { demoToken, readFile: () => JSON.stringify(dup) }),
  ) as Error
  t.match(err.message, /appears twice/)
  t.notMatch(err.message, /secret-key-123/)
  t.throws(() => loadConfig({ TENANTS_FILE: 't.json' }, 'all', { demoToken, readFile: () => '{nope' }), /could not be read as JSON/)
})

t.test('Kombo webhook secret and API rate limit', async (t) => {
  const defaults = loadConfig({}, 'all', { demoToken })
  t.same(defaults.komboWebhook, { secret: null, toleranceSeconds: 300 }, 'webhooks are off without a secret')
  t.equal(defaults.apiRateLimitPerMinute, 600)
  const c = loadConfig({ KOMBO_WEBHOOK_SECRET: 'a-webhook-secret', KOMBO_WEBHOOK_TOLERANCE_SECONDS: '60', API_RATE_LIMIT_PER_MINUTE: '0' }, 'all', { demoToken })
  t.same(c.komboWebhook, { secret: 'a-webhook-secret', toleranceSeconds: 60 })
  t.equal(c.apiRateLimitPerMinute, 0, '0 turns rate limiting off')
  t.throws(() => loadConfig({ KOMBO_WEBHOOK_SECRET: 'short' }, 'all', { demoToken }), /KOMBO_WEBHOOK_SECRET/)
  t.throws(() => loadConfig({ API_RATE_LIMIT_PER_MINUTE: '-1' }, 'all', { demoToken }), /API_RATE_LIMIT_PER_MINUTE/)
})

t.test('tenant time zone: the demo company is in Berlin; a tenants file names IANA zones only', async (t) => {
  t.equal(loadConfig({}, 'all', { demoToken }).tenants[0].timeZone, 'Europe/Berlin')
  const file = (tenant: Record<string, unknown>) => ({
    demoToken,
    readFile: () => JSON.stringify({ tenants: [{ id: 'acme', integrationId: 'personio:acme', tokenSha256: [sha256('t1')], ...tenant }] }),
  })
  t.equal(loadConfig({ TENANTS_FILE: 't.json' }, 'all', file({ timeZone: 'Pacific/Auckland' })).tenants[0].timeZone, 'Pacific/Auckland')
  t.throws(() => loadConfig({ TENANTS_FILE: 't.json' }, 'all', file({ timeZone: 'Europe/Atlantis' })), /IANA time zone/)
})

t.test('PROJECTOR_SHARD: i/N picks a shard, unset is the one projector, a bad value is refused by name', async (t) => {
  t.same(loadConfig({ DATABASE_URL: 'postgres://db/kombo' }, 'projector', { demoToken }).projectorShard, { index: 0, count: 1 })
  t.same(loadConfig({ PROJECTOR_SHARD: '2/4', DATABASE_URL: 'postgres://db/kombo' }, 'projector', { demoToken }).projectorShard, { index: 2, count: 4 })
  t.throws(() => loadConfig({ PROJECTOR_SHARD: '4/4', DATABASE_URL: 'postgres://db/kombo' }, 'projector', { demoToken }), { name: 'ConfigError', message: /PROJECTOR_SHARD must be "i\/N"/ })
})

t.test('the per-tenant backlog budget: 500 records + events, asked every 200 ms, 0 turns it off', async (t) => {
  t.same(loadConfig({}, 'all', { demoToken }).tenantBacklog, { limit: 500, checkMs: 200 })
  t.equal(DEFAULT_TENANT_BACKLOG_LIMIT, 500)
  t.same(loadConfig({ TENANT_BACKLOG_LIMIT: '1000' }, 'all', { demoToken }).tenantBacklog, { limit: 1000, checkMs: 200 }, 'the old default stays one setting away')
  t.same(loadConfig({ TENANT_BACKLOG_LIMIT: '0', TENANT_BACKLOG_CHECK_MS: '50' }, 'all', { demoToken }).tenantBacklog, { limit: 0, checkMs: 50 })
  const bad = t.throws(() => loadConfig({ TENANT_BACKLOG_LIMIT: '-1', TENANT_BACKLOG_CHECK_MS: '0' }, 'all', { demoToken })) as Error
  t.match(bad.message, /TENANT_BACKLOG_LIMIT/)
  t.match(bad.message, /TENANT_BACKLOG_CHECK_MS/)
})
