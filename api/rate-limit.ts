// Who a request counts against for rate limiting: the bearer token when it is a real token (so
// one tenant's busy integration does not throttle another behind the same NAT), else the client
// IP — so inventing a fresh token per request does not escape the limit.
import { createHash } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { ApiError } from './errors.ts'
import type { TenantAuthenticator } from './ports.ts'

export function rateLimitKey(request: FastifyRequest, tenants: TenantAuthenticator): string {
  const header = request.headers.authorization
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null
  if (match) {
    const tenant = String((request.params as { tenant?: unknown } | undefined)?.tenant ?? '')
    if (tenant && tenants.authenticate(tenant, match[1]) !== 'invalid_token') {
      // A hash, so the limiter's memory never holds a usable token.
      return `token:${createHash('sha256').update(match[1]).digest('hex').slice(0, 32)}`
    }
  }
  return `ip:${request.ip}`
}

export const rateLimitedError = (max: number, after: string) =>
  new ApiError(429, 'rate_limited', `more than ${max} requests per minute; retry after ${after} (see the Retry-After header)`)
