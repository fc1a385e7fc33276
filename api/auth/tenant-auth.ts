// Bearer-token check for every /v1/tenants/:tenant route. Runs on onRequest, before the request is
// parsed or validated, so an unauthenticated caller learns nothing about the API's parameters.
// A token valid for another tenant and an unknown tenant get the same 403, so tenants cannot be
// enumerated.
import type { onRequestAsyncHookHandler } from 'fastify'
import { ApiError } from '../errors.ts'
import type { TenantAuthenticator } from '../ports.ts'

const bearer = /^Bearer +(\S+) *$/i

export function tenantAuthHook(tenants: TenantAuthenticator): onRequestAsyncHookHandler {
  return async (request, reply) => {
    const header = request.headers.authorization
    const token = typeof header === 'string' ? bearer.exec(header)?.[1] : undefined
    const tenant = String((request.params as { tenant?: unknown }).tenant ?? '')
    if (!token) {
      reply.header('www-authenticate', 'Bearer realm="kombo-sync"')
      throw new ApiError(401, 'unauthorized', 'send the tenant API token as "Authorization: Bearer <token>"')
    }
    const result = tenants.authenticate(tenant, token)
    if (result === 'ok') return
    if (result === 'invalid_token') {
      reply.header('www-authenticate', 'Bearer realm="kombo-sync", error="invalid_token"')
      throw new ApiError(401, 'unauthorized', 'the bearer token is not valid (revoked, mistyped or never issued)')
    }
    const shown = tenant.length > 64 ? `${tenant.slice(0, 64)}…` : tenant
    throw new ApiError(403, 'forbidden', `this token does not grant access to tenant '${shown}'`)
  }
}
