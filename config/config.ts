// Configuration: read once from the environment at start, validated with zod, passed in.
// Nothing else in the code base reads process.env.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { z } from 'zod'
import { TenantId } from '../schemas/envelope.ts'
import { InvitePolicy } from '../schemas/invite-policy.ts'
import { MassDeactivationThreshold, OptionalField, OptionalResource, TimeZone } from '../schemas/tenant.ts'
import { KomboSyncError } from '../errors/kombo-sync-error.ts'
import { parseShard, type TenantShard } from '../projections/shard.ts'

export const roles = ['all', 'poller', 'processor', 'projector', 'api'] as const
export type Role = (typeof roles)[number]

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a token hash is 64 lowercase hex characters (sha256 of the token)')

export const TenantConfig = z.object({
  id: TenantId,
  integrationId: z.string().min(1),
  invitePolicy: InvitePolicy.default({ mode: 'manual' }),
  /** sha256 (hex) of each API token accepted for this tenant; tokens themselves are never stored. */
  tokenSha256: z.array(sha256Hex).min(1, 'each tenant needs at least one token hash'),
  pollIntervalMs: z.number().int().min(1000).optional(),
  /** IANA time zone the tenant's HR dates are read in (default UTC). */
  timeZone: TimeZone.optional(),
  /** Optional Kombo fields kept for this tenant (default: all of them). */
  optionalFields: z.array(OptionalField).optional(),
  /** Optional Kombo resources synced for this tenant (default: legal-entities, absence-types, absences). */
  optionalResources: z.array(OptionalResource).optional(),
  massDeactivation: MassDeactivationThreshold.optional(),
  /** true: seeded paused (not polled until an operator resumes it). */
  paused: z.boolean().optional(),
  /** How often this tenant's resources are read in full (the reconcile); 0 turns it off. Default KOMBO_FULL_RECONCILE_INTERVAL_MS. */
  fullReconcileIntervalMs: z.number().int().min(0).optional(),
})
export type TenantConfig = z.infer<typeof TenantConfig>
export const TenantsFile = z.object({ tenants: z.array(TenantConfig).min(1) }).superRefine((f, ctx) => {
  const seen = new Set<string>()
  for (const t of f.tenants) {
    if (seen.has(t.id)) ctx.addIssue({ code: 'custom', message: `tenant id "${t.id}" appears twice` })
    seen.add(t.id)
  }
})

const optionalUrl = z.url().optional()
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def)

/**
 * TENANT_BACKLOG_LIMIT's default: 500 records + events of a tenant in the pipeline before its poller
 * waits (docs/operations.md "Per-tenant backlog budget"). Measured on Kafka + PostgreSQL, idle
 * machine, alternating (docs/notes/budget-2026-12-06.md): behind a 20k tenant's initial sync a small
 * tenant's change took p99 1.7-1.8 s at 200, 2.4 s at 500, 3.1-3.4 s at 1000 (goal: poll interval
 * + 2 s = 3 s); one tenant's steady state at 1,000 changes/s had p50 2.6 s / p99 9.6-11.4 s at 200
 * against 1.4-1.5 / 3.4-4.7 s at 500 and 1.5-1.9 / 2.8-4.1 s at 1000. 500 keeps both.
 */
export const DEFAULT_TENANT_BACKLOG_LIMIT = 500

export const Env = z
  .object({
    PORT: int(3000, 0),
    HOST: z.string().default('127.0.0.1'),
    /** Roles without the read API (poller, processor, projector) serve GET /metrics and /health/live here; unset: off. */
    METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
    /** `i/N`: this projector owns the tenants whose hash mod N is i (projections/shard.ts); unset: all of them. */
    PROJECTOR_SHARD: z.string().optional(),
    DATA_DIR: z.string().default('.data'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** auto: readable lines on a terminal, JSON otherwise (e.g. `npm start | cat`). */
    LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
    /** Tracing is off unless set: OTLP/HTTP collector base URL, e.g. http://127.0.0.1:4318. */
    OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
    OTEL_SERVICE_NAME: z.string().min(1).optional(),
    TENANTS_FILE: z.string().optional(),
    DEMO_API_TOKEN: z.string().min(16, 'DEMO_API_TOKEN must be at least 16 characters').optional(),
    KOMBO_BASE_URL: optionalUrl,
    KOMBO_API_KEY: z.string().min(1).optional(),
    KOMBO_INTEGRATION_ID: z.string().min(1).default('demo'),
    /** How long one Kombo request may take before it is abandoned and retried. */
    KOMBO_TIMEOUT_MS: int(30_000, 100),
    POLL_INTERVAL_MS: int(5000, 100),
    /** How far before its watermark each poll re-reads (Kombo may stamp a change late); exact repeats are not published again. */
    KOMBO_WATERMARK_OVERLAP_MS: int(60_000, 0),
    CLOCK_INTERVAL_MS: int(60_000, 100),
    /** Pages one poll of one resource follows at most (a cursor that never ends fails the resource instead). */
    KOMBO_MAX_PAGES_PER_POLL: int(10_000, 1),
    /** Largest Kombo response accepted, on the wire and decompressed; larger ones are aborted and retried. */
    KOMBO_MAX_RESPONSE_BYTES: int(32 * 1024 * 1024, 1024),
    /** How often each resource is read in full to catch what incremental polls missed; 0 turns it off. */
    KOMBO_FULL_RECONCILE_INTERVAL_MS: int(7 * 24 * 60 * 60 * 1000, 0),
    KAFKA_BROKERS: z.string().optional(),
    SCHEMA_REGISTRY_URL: optionalUrl,
    KAFKA_PARTITIONS: int(6, 1),
    /** Prefixes every topic and consumer group, so several environments can share one cluster. */
    KAFKA_TOPIC_PREFIX: z.string().regex(/^[a-zA-Z0-9._-]*$/, 'letters, digits, dot, dash and underscore only').default(''),
    EVENTSTORE_CONNECTION_STRING: z.string().optional(),
    DATABASE_URL: z.string().optional(),
    KOMBO_WEBHOOK_SECRET: z.string().min(8, 'KOMBO_WEBHOOK_SECRET must be at least 8 characters').optional(),
    KOMBO_WEBHOOK_TOLERANCE_SECONDS: int(300, 1),
    API_RATE_LIMIT_PER_MINUTE: int(600, 0),
    /** Turns the operator API (/v1/admin) on; only its sha256 is kept in memory. */
    ADMIN_API_TOKEN: z.string().min(24, 'ADMIN_API_TOKEN must be at least 24 characters').optional(),
    /** What Kombo's integration-created webhook does for an end user that names no tenant. */
    KOMBO_UNKNOWN_INTEGRATION: z.enum(['create-paused', 'log']).default('create-paused'),
    /** How often each role checks the tenant table for changes. */
    TENANT_REFRESH_MS: int(1000, 50),
    /** A tenant's records the processors have not committed plus its events the projector has not applied, at which its poller waits before the next page; 0 turns the budget off. */
    TENANT_BACKLOG_LIMIT: int(DEFAULT_TENANT_BACKLOG_LIMIT, 0),
    /** How often a poller waiting on its tenant's backlog asks again. */
    TENANT_BACKLOG_CHECK_MS: int(200, 10),
    SIMULATOR_EMPLOYEES: int(300, 1),
    SIMULATOR_SEED: int(1),
    SIMULATOR_CHURN_PER_SECOND: z.coerce.number().min(0).default(0.5),
  })
  .superRefine((e, ctx) => {
    if (e.KOMBO_BASE_URL && !e.KOMBO_API_KEY)
      ctx.addIssue({ code: 'custom', path: ['KOMBO_API_KEY'], message: 'KOMBO_API_KEY is required when KOMBO_BASE_URL is set' })
    if (e.KAFKA_BROKERS && !e.SCHEMA_REGISTRY_URL)
      ctx.addIssue({ code: 'custom', path: ['SCHEMA_REGISTRY_URL'], message: 'SCHEMA_REGISTRY_URL is required when KAFKA_BROKERS is set' })
  })
export type Env = z.infer<typeof Env>

export interface Config {
  role: Role
  http: { host: string; port: number }
  /**
   * METRICS_PORT: the port (on http.host) where a role without the read API serves /metrics and
   * /health/live; null: none. The `all` and `api` roles serve /metrics on http.port instead.
   */
  metricsPort: number | null
  /** PROJECTOR_SHARD: the tenants this process projects (default: every tenant, one projector). */
  projectorShard: TenantShard
  dataDir: string
  logLevel: Env['LOG_LEVEL']
  logFormat: Env['LOG_FORMAT']
  /** null: tracing off. */
  tracing: { endpoint: string; serviceName: string } | null
  /** null: the embedded Kombo simulator is started and used. */
  kombo: { baseUrl: string; apiKey: string } | null
  /** Per Kombo request; a slower answer counts as a transient failure and is retried. */
  komboTimeoutMs: number
  simulator: { employees: number; seed: number; churnPerSecond: number }
  /**
   * Tenants to seed at start: from TENANTS_FILE (created or updated), or the single demo tenant
   * (created when missing). At runtime tenants live in the database (tenants/).
   */
  tenants: TenantConfig[]
  /** true: `tenants` came from TENANTS_FILE, whose settings win over the database's at start. */
  tenantsFromFile: boolean
  /** sha256 (hex) of ADMIN_API_TOKEN; null: the operator API is off. The token itself is not kept. */
  adminTokenSha256: string | null
  /** integration-created for an unknown end user: create the tenant paused, or only log it. */
  unknownIntegration: 'create-paused' | 'log'
  /** How often every role checks the tenant table's version. */
  tenantRefreshMs: number
  /** The per-tenant backlog budget (producers/tenant-budget.ts): limit 0 is off. */
  tenantBacklog: { limit: number; checkMs: number }
  /** The demo tenant's token when it was generated or given (printed at start); null otherwise. */
  demoToken: string | null
  /** true when the operator gave the demo token (DEMO_API_TOKEN): a secret they have, never printed. */
  demoTokenGiven: boolean
  pollIntervalMs: number
  /** Each poll reads from its watermark minus this (see producers/poll-resource.ts). */
  watermarkOverlapMs: number
  clockIntervalMs: number
  /** See KOMBO_MAX_PAGES_PER_POLL. */
  maxPagesPerPoll: number
  /** See KOMBO_MAX_RESPONSE_BYTES. */
  maxResponseBytes: number
  /** Default full-reconcile interval (a tenant's `fullReconcileIntervalMs` wins); 0: off. */
  fullReconcileIntervalMs: number
  kafka: { brokers: string[]; registryUrl: string; partitions: number; topicPrefix: string } | null
  eventStoreConnectionString: string | null
  databaseUrl: string | null
  /** secret null: the Kombo webhook route is off. The secret is never logged. */
  komboWebhook: { secret: string | null; toleranceSeconds: number }
  /** Per token (per IP without a valid token); 0 turns rate limiting off. */
  apiRateLimitPerMinute: number
}

/** Thrown at start with every problem listed, in words an operator can act on. */
export class ConfigError extends KomboSyncError {
  override name = 'ConfigError'
  readonly retriable = false
}

function projectorShardOf(text: string | undefined): TenantShard {
  try {
    return parseShard(text)
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
}

export function loadConfig(
  env: Record<string, string | undefined>,
  role: string,
  deps: { readFile?: (path: string) => string; /** Generates (or reads back) the demo token, kept in the data directory. */ demoToken: (dataDir: string) => string },
): Config {
  if (!(roles as readonly string[]).includes(role)) throw new ConfigError(`unknown role "${role}": use one of ${roles.join(', ')}`)
  const parsed = Env.safeParse(env)
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n${z.prettifyError(parsed.error)}`)
  const e = parsed.data
  if (role !== 'all' && !e.DATABASE_URL) {
    // The embedded database lives in one process's data directory; roles apart cannot share it.
    throw new ConfigError(
      `role "${role}" runs apart from the other roles, so they need a shared database: set DATABASE_URL (PostgreSQL), or run "all"`,
    )
  }
  const readFile = deps.readFile ?? ((p: string) => readFileSync(p, 'utf8'))

  let tenants: TenantConfig[]
  let demoToken: string | null = null
  if (e.TENANTS_FILE) {
    let raw: unknown
    try {
      raw = JSON.parse(readFile(resolve(e.TENANTS_FILE)))
    } catch (err) {
      throw new ConfigError(`TENANTS_FILE ${e.TENANTS_FILE} could not be read as JSON: ${(err as Error).message}`)
    }
    const file = TenantsFile.safeParse(raw)
    if (!file.success) throw new ConfigError(`TENANTS_FILE ${e.TENANTS_FILE} is invalid:\n${z.prettifyError(file.error)}`)
    tenants = file.data.tenants
  } else {
    demoToken = e.DEMO_API_TOKEN ?? deps.demoToken(resolve(e.DATA_DIR))
    tenants = [
      {
        id: 'demo',
        integrationId: e.KOMBO_INTEGRATION_ID,
        invitePolicy: { mode: 'on_start_date', daysBefore: 7 },
        tokenSha256: [sha256(demoToken)],
        timeZone: 'Europe/Berlin',
      },
    ]
  }

  return {
    role: role as Role,
    http: { host: e.HOST, port: e.PORT },
    metricsPort: e.METRICS_PORT ?? null,
    projectorShard: projectorShardOf(e.PROJECTOR_SHARD),
    dataDir: resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    tracing: e.OTEL_EXPORTER_OTLP_ENDPOINT ? { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME ?? `kombo-sync-${role}` } : null,
    kombo: e.KOMBO_BASE_URL ? { baseUrl: e.KOMBO_BASE_URL, apiKey: e.KOMBO_API_KEY! } : null,
    komboTimeoutMs: e.KOMBO_TIMEOUT_MS,
    simulator: { employees: e.SIMULATOR_EMPLOYEES, seed: e.SIMULATOR_SEED, churnPerSecond: e.SIMULATOR_CHURN_PER_SECOND },
    tenants,
    tenantsFromFile: Boolean(e.TENANTS_FILE),
    adminTokenSha256: e.ADMIN_API_TOKEN ? sha256(e.ADMIN_API_TOKEN) : null,
    unknownIntegration: e.KOMBO_UNKNOWN_INTEGRATION,
    tenantRefreshMs: e.TENANT_REFRESH_MS,
    tenantBacklog: { limit: e.TENANT_BACKLOG_LIMIT, checkMs: e.TENANT_BACKLOG_CHECK_MS },
    demoToken,
    demoTokenGiven: e.DEMO_API_TOKEN !== undefined,
    pollIntervalMs: e.POLL_INTERVAL_MS,
    watermarkOverlapMs: e.KOMBO_WATERMARK_OVERLAP_MS,
    clockIntervalMs: e.CLOCK_INTERVAL_MS,
    maxPagesPerPoll: e.KOMBO_MAX_PAGES_PER_POLL,
    maxResponseBytes: e.KOMBO_MAX_RESPONSE_BYTES,
    fullReconcileIntervalMs: e.KOMBO_FULL_RECONCILE_INTERVAL_MS,
    kafka: e.KAFKA_BROKERS
      ? { brokers: e.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean), registryUrl: e.SCHEMA_REGISTRY_URL!, partitions: e.KAFKA_PARTITIONS, topicPrefix: e.KAFKA_TOPIC_PREFIX }
      : null,
    eventStoreConnectionString: e.EVENTSTORE_CONNECTION_STRING ?? null,
    databaseUrl: e.DATABASE_URL ?? null,
    komboWebhook: { secret: e.KOMBO_WEBHOOK_SECRET ?? null, toleranceSeconds: e.KOMBO_WEBHOOK_TOLERANCE_SECONDS },
    apiRateLimitPerMinute: e.API_RATE_LIMIT_PER_MINUTE,
  }
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** The configuration of this process, from its own environment: the entry points call this. */
export function loadProcessConfig(role: string, deps: Parameters<typeof loadConfig>[2]): Config {
  return loadConfig(process.env, role, deps)
}
