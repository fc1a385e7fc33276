// A span per API request (kind SERVER), continuing the caller's trace when it sends `traceparent`.
// The route's pattern (`/v1/tenants/:tenant/users/:id`), not the URL, names the span: ids and
// query strings (personal data, cursors) stay out of the trace.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Span } from '@opentelemetry/api'
import { endSpans, SpanKind, startSpan, tracingEnabled } from '../tracing/spans.ts'

const spans = new WeakMap<FastifyRequest, Span>()

export function traceRequests(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (!tracingEnabled()) return
    const incoming = request.headers.traceparent
    const span = startSpan(`${request.method} ${request.routeOptions.url ?? 'unknown route'}`, {
      traceparent: typeof incoming === 'string' ? incoming : null,
      root: true,
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'http.route': request.routeOptions.url ?? '' },
    })
    if (span) spans.set(request, span)
  })
  app.addHook('onResponse', async (request, reply) => {
    const span = spans.get(request)
    if (!span) return
    span.setAttribute('http.response.status_code', reply.statusCode)
    endSpans([span], reply.statusCode >= 500 ? new Error(`HTTP ${reply.statusCode}`) : undefined)
  })
}
