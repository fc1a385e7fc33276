// A few security headers by hand (helmet is not a dependency). JSON responses get a CSP that
// allows nothing; the Swagger UI under /docs sets its own CSP (staticCSP) because it runs scripts.
import type { onSendHookHandler } from 'fastify'
import { CONSOLE_CSP } from './console/routes.ts'

export const securityHeaders: onSendHookHandler = async (request, reply, payload) => {
  reply.header('x-content-type-options', 'nosniff')
  reply.header('x-frame-options', 'DENY')
  reply.header('referrer-policy', 'no-referrer')
  reply.header('cross-origin-resource-policy', 'same-origin')
  reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains')
  if (request.url === '/console' || request.url.startsWith('/console/')) {
    // The console runs its own script and calls the API from the page (see api/console/).
    reply.header('content-security-policy', CONSOLE_CSP)
    reply.header('cache-control', 'no-store')
  } else if (!request.url.startsWith('/docs')) {
    reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
    // Tenant data must not sit in shared or browser caches.
    reply.header('cache-control', 'no-store')
  }
  return payload
}
