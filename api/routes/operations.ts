// Unauthenticated operational endpoints for orchestrators and Prometheus. They expose no tenant
// data; put them behind the internal network in production.
import type { FastifyInstance } from 'fastify'
import type { ApiDeps } from '../ports.ts'

export async function operationalRoutes(app: FastifyInstance, deps: Pick<ApiDeps, 'readiness' | 'metrics'>): Promise<void> {
  app.get('/health/live', { schema: { tags: ['operations'], summary: 'The process is up' } }, async () => ({ status: 'ok' }))

  app.get(
    '/health/ready',
    { schema: { tags: ['operations'], summary: 'Dependencies reachable: 200 when ready, 503 otherwise' } },
    async (request, reply) => {
      try {
        const report = await deps.readiness()
        return reply.code(report.ready ? 200 : 503).send(report)
      } catch (err) {
        request.log.error({ err }, 'readiness check failed')
        return reply.code(503).send({ ready: false, checks: { readiness: { ok: false, detail: 'the readiness check itself failed' } } })
      }
    },
  )

  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    const body = await deps.metrics.render()
    return reply.type(deps.metrics.contentType).send(body)
  })
}
