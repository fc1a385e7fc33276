// One error shape for every response: `{ error: { code, message } }`. 4xx messages say what is
// wrong with the request; 5xx bodies are generic (the detail goes to the log with the request id).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { InvalidCursorError } from '../projections/viewstore/port.ts'
import { RequestValidationError } from './validation.ts'

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
})
export type ErrorBody = z.infer<typeof ErrorBody>

/** An error a route raises on purpose, with the status and message the client should see. */
export class ApiError extends Error {
  override name = 'ApiError'
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
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  431: 'headers_too_large',
}

export function registerErrorHandlers(app: FastifyInstance): void {
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
    reply.code(404).send(errorBody('not_found', `no route ${request.method} ${path.length > 200 ? `${path.slice(0, 200)}…` : path}`))
  })
}
