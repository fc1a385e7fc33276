// The read API: a Fastify app over ports (views, history, commands, sync status, auth, readiness,
// metrics), so it runs and is tested without the pipeline behind it.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import rateLimit from '@fastify/rate-limit'
import type { DestinationStream, LoggerOptions } from 'pino'
import { tenantAuthHook } from './auth/tenant-auth.ts'
import { clientErrorHandler, frameworkErrors, MAX_PARAM_LENGTH, registerErrorHandlers } from './errors.ts'
import { adminAuthHook } from './auth/admin-auth.ts'
import { adminTenantRoutes } from './routes/admin-tenants.ts'
import type { ApiDeps } from './ports.ts'
import { changeLogRoutes } from './routes/changes.ts'
import { deadLetterRoutes } from './routes/dead-letters.ts'
import { holdRoutes } from './routes/holds.ts'
import { directoryRoutes } from './routes/directory.ts'
import { hrRecordRoutes } from './routes/hr-records.ts'
import { erasureRoutes } from './routes/erasure.ts'
import { komboWebhookRoutes, type KomboWebhookRouteOptions } from './routes/webhooks.ts'
import { rateLimitKey, rateLimitedError } from './rate-limit.ts'
import { operationalRoutes } from './routes/operations.ts'
import { userRoutes } from './routes/users.ts'
import { securityHeaders } from './security-headers.ts'
import { consoleRoutes } from './console/routes.ts'
import { traceRequests } from './tracing.ts'
import { zodValidatorCompiler } from './validation.ts'
import { SerializedJson, viewResponsesOf, type ViewCacheOptions } from './view-cache.ts'

export type { ApiDeps } from './ports.ts'

export interface ApiAppOptions {
  /** false/undefined: silent; true: info to stdout; or pino options (with `stream` for tests). */
  logger?: boolean | (LoggerOptions & { stream?: DestinationStream })
  /** Requests per minute per token (per client IP without a valid token). Default 600; 0 turns it off. */
  rateLimitPerMinute?: number
  /** The Kombo webhook's secret; without it the webhook route answers 404 with how to enable it. */
  komboWebhook?: KomboWebhookRouteOptions
  /** The cache of serialised view answers (api/view-cache.ts); false turns it off. */
  viewCache?: ViewCacheOptions | false
}

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600

/** 64 KiB: the only body the API accepts is the tiny invite command. */
export const BODY_LIMIT_BYTES = 64 * 1024

// Credentials must never reach the logs, whatever a serializer or a log call includes.
const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
]

// An incoming x-request-id (from a load balancer) is kept if it looks like an id; otherwise ours.
const requestIdPattern = /^[A-Za-z0-9._:-]{1,64}$/
const genReqId = (req: IncomingMessage): string => {
  const incoming = req.headers['x-request-id']
  return typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : randomUUID()
}

function loggerOptions(logger: ApiAppOptions['logger']) {
  if (!logger) return false
  const base = logger === true ? {} : logger
  const extra = Array.isArray(base.redact) ? base.redact : (base.redact?.paths ?? [])
  return {
    level: 'info',
    ...base,
    redact: { paths: [...redactedPaths, ...extra], censor: '[redacted]' },
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: request.url,
        remoteAddress: request.ip,
        headers: request.headers,
      }),
      ...base.serializers,
    },
  }
}

export async function buildApiApp(deps: ApiDeps, options: ApiAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(options.logger),
    bodyLimit: BODY_LIMIT_BYTES,
    // Errors raised before a route runs are answered in the one error shape too (api/errors.ts).
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    clientErrorHandler,
    genReqId,
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      // Probes and scrapes every few seconds would drown the request log.
      disableRequestLogging: (req: { url?: string }) => /^\/(health\/|metrics)/.test(req.url ?? ''),
    }),
  })

  // Validation runs the routes' zod schemas; responses are plain JSON.stringify (response schemas
  // only document the API — a serializer would silently drop fields the views add later), and the
  // view answers arrive already serialised (and cached: api/view-cache.ts).
  app.setValidatorCompiler(zodValidatorCompiler)
  app.setSerializerCompiler(() => (data) => (data instanceof SerializedJson ? data.json : JSON.stringify(data)))
  const responses = viewResponsesOf(deps.views, options.viewCache)
  app.addHook('onClose', async () => responses.close())
  const erasure: ApiDeps['erasure'] = deps.erasure && {
    eraseEmployee: async (request) => {
      try {
        return await deps.erasure!.eraseEmployee(request)
      } finally {
        // Even a failed erasure may have purged rows: nothing cached may outlive it.
        responses.changed()
      }
    },
  }
  registerErrorHandlers(app)
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  app.addHook('onSend', securityHeaders)
  traceRequests(app)

  const perMinute = options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE
  if (perMinute > 0) {
    // In memory, per process: with N API replicas the effective limit is N times this.
    await app.register(rateLimit, {
      // Not per route: route-level hooks would run after the tenant auth hook, and requests with
      // made-up tokens (401) must count too. One root hook runs before every scope's hooks.
      global: false,
      max: perMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => rateLimitKey(request, deps.tenants),
      errorResponseBuilder: (_request, context) => rateLimitedError(context.max, context.after),
    })
    const limit = app.rateLimit()
    app.addHook('onRequest', async (request, reply) => {
      // Probes and scrapes come from the orchestrator and Prometheus, not from clients.
      if (/^\/(health\/|metrics)/.test(request.url)) return
      await limit.call(app, request, reply)
    })
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'kombo-sync read API',
        version: '1',
        description: 'Learn Amp users, teams and locations synced from the HR system, with history and as-of reads.',
      },
      components: {
        securitySchemes: {
          tenantToken: { type: 'http', scheme: 'bearer', description: 'the tenant API token' },
          adminToken: { type: 'http', scheme: 'bearer', description: 'the operator token (ADMIN_API_TOKEN); /v1/admin only, never tenant data' },
        },
      },
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  await app.register(async (ops) => operationalRoutes(ops, deps))
  await app.register(consoleRoutes)
  await app.register(
    async (tenantScope) => {
      tenantScope.addHook('onRequest', tenantAuthHook(deps.tenants))
      await userRoutes(tenantScope, deps, responses)
      await directoryRoutes(tenantScope, deps, responses)
      await hrRecordRoutes(tenantScope, deps)
      await changeLogRoutes(tenantScope, deps)
      await erasureRoutes(tenantScope, { erasure })
      await deadLetterRoutes(tenantScope, deps)
      await holdRoutes(tenantScope, deps)
    },
    { prefix: '/v1/tenants/:tenant' },
  )
  const admin = deps.admin
  if (admin) {
    await app.register(
      async (adminScope) => {
        adminScope.addHook('onRequest', adminAuthHook(admin.tokenSha256))
        await adminTenantRoutes(adminScope, admin.tenants)
      },
      { prefix: '/v1/admin' },
    )
  }
  await app.register(async (webhookScope) => komboWebhookRoutes(webhookScope, deps.webhooks, options.komboWebhook ?? { secret: null }))
  return app
}
