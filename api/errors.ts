// One error shape for every response: `{ error: { code, message } }`. 4xx messages say what is
// wrong with the request; 5xx bodies are generic (the detail goes to the log with the request id).
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { ENTITY_ID_MAX_LENGTH } from '../schemas/kombo.ts'
import { InvalidCursorError } from '../projections/viewstore/port.ts'
import { RequestValidationError } from './validation.ts'
import { KomboSyncError } from '../errors/kombo-sync-error.ts'

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
})
export type ErrorBody = z.infer<typeof ErrorBody>

/** An error a route raises on purpose, with the status and message the client should see. */
export class ApiError extends KomboSyncError {
  override name = 'ApiError'
  /** A client error stays one if sent again; a 429 or 5xx may pass later. */
  get retriable(): boolean {
    return this.statusCode === 429 || this.statusCode >= 500
  }
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export const errorBody = (code: string, message: string): ErrorBody => ({ error: { code, message } })

// Fastify's own request errors (bad JSON, body too large, unsupported media type …) carry safe,
// precise messages; anything else with a statusCode came from a dependency and is not trusted.
const isFastifyClientError = (err: FastifyError) =>
  typeof err.code === 'string' && err.code.startsWith('FST_') && (err.statusCode ?? 500) >= 400 && (err.statusCode ?? 500) < 500

const fastifyCodes: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  431: 'headers_too_large',
}

/**
 * The router's limit on one raw path segment. An id may be ENTITY_ID_MAX_LENGTH UTF-16 units, and
 * one unit of the BMP is up to 3 UTF-8 bytes, each sent as `%XX`: so the longest id that can be
 * fetched fits, and the zod schema (not the router) answers for ids a little too long.
 */
export const MAX_PARAM_LENGTH = ENTITY_ID_MAX_LENGTH * 9

/**
 * Errors the router raises before any route runs (Fastify's `frameworkErrors`): a URL that is not
 * valid percent-encoded UTF-8 (FST_ERR_BAD_URL, which also covers an encoded lone surrogate) and a
 * path segment over MAX_PARAM_LENGTH. Fastify's own answers to these have a different shape.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id)
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    reply.code(414).send(errorBody('uri_too_long', `a path segment is longer than ${MAX_PARAM_LENGTH} characters (ids are at most ${ENTITY_ID_MAX_LENGTH})`))
    return
  }
  if (err.code === 'FST_ERR_BAD_URL') {
    reply.code(400).send(errorBody('bad_url', 'the URL path is not valid: a percent-escape is malformed or does not decode to valid UTF-8'))
    return
  }
  request.log.error({ err }, 'router error')
  reply.code(500).send(errorBody('internal_error', `something went wrong on our side; quote request id ${request.id} when reporting it`))
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (headers over the limit, a
 * malformed request, a timeout): answered on the socket in our shape, then the socket is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'the request headers are larger than the server accepts (16 KiB in all)']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'the request was not received in time']
        : [400, 'bad_request', 'the request is not valid HTTP/1.1']
  const body = JSON.stringify(errorBody(code, message))
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(err)
}

/** A route's path as a pattern (`:param` one segment, `*` the rest), to tell 405 from 404. */
function routePattern(url: string): RegExp {
  const escape = (part: string) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const parts = url.split('/').map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : escape(part)))
  return new RegExp(`^${parts.join('/')}$`)
}

/** Must run before the routes are registered (it collects them for the 405 answers). */
export function registerErrorHandlers(app: FastifyInstance): void {
  const routes: Array<{ pattern: RegExp; methods: string[] }> = []
  app.addHook('onRoute', (route) => {
    routes.push({ pattern: routePattern(route.url), methods: ([] as string[]).concat(route.method) })
  })
  const allowedMethods = (path: string) => [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))].sort()

  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) return reply.code(err.statusCode).send(errorBody(err.code, err.message))
    if (err instanceof RequestValidationError) return reply.code(400).send(errorBody('invalid_request', err.message))
    if (err instanceof InvalidCursorError || err?.name === 'InvalidCursorError') {
      return reply
        .code(400)
        .send(errorBody('invalid_cursor', "query parameter 'cursor' is not a cursor this API returned for this list; start again without it"))
    }
    if (isFastifyClientError(err)) {
      const status = err.statusCode as number
      return reply.code(status).send(errorBody(fastifyCodes[status] ?? 'bad_request', err.message))
    }
    request.log.error({ err }, 'request failed')
    return reply
      .code(500)
      .send(errorBody('internal_error', `something went wrong on our side; quote request id ${request.id} when reporting it`))
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]
    const allowed = allowedMethods(path)
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send(errorBody('method_not_allowed', `${request.method} is not allowed here; use ${allowed.join(', ')}`))
    }
    reply.code(404).send(errorBody('not_found', `no route ${request.method} ${path.length > 200 ? `${path.slice(0, 200)}…` : path}`))
  })
}
