// Bearer-token check for every /v1/admin route: the operator token, compared as a sha256 digest in
// constant time. Tenant tokens never pass it (they are other tokens), and the operator token never
// passes the tenant check (it is no tenant's token), so the two kinds of access stay apart.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { onRequestAsyncHookHandler } from 'fastify'
import { ApiError } from '../errors.ts'

const bearer = /^Bearer +(\S+) *$/i

export function adminAuthHook(tokenSha256: string): onRequestAsyncHookHandler {
  const expected = Buffer.from(tokenSha256, 'hex')
  if (expected.length !== 32) throw new RangeError('the admin token digest must be a sha256 (64 hex characters)')
  return async (request, reply) => {
    const header = request.headers.authorization
    const token = typeof header === 'string' ? bearer.exec(header)?.[1] : undefined
    if (!token) {
      reply.header('www-authenticate', 'Bearer realm="kombo-sync-admin"')
      throw new ApiError(401, 'unauthorized', 'send the operator token (ADMIN_API_TOKEN) as "Authorization: Bearer <token>"')
    }
    const presented = createHash('sha256').update(token, 'utf8').digest()
    if (!timingSafeEqual(presented, expected)) {
      reply.header('www-authenticate', 'Bearer realm="kombo-sync-admin", error="invalid_token"')
      throw new ApiError(401, 'unauthorized', 'the bearer token is not the operator token')
    }
  }
}
