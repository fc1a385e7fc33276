// Mass-deactivation holds (issue 15): list them, release or discard one. Tenant-scoped like every
// tenant route (the tenant token opens only its own holds; another tenant's hold id is a 404).
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { ApiError, ErrorBody } from '../errors.ts'
import type { ApiDeps } from '../ports.ts'
import { zodRoute } from '../route.ts'
import { Hold, HoldDecisionBody, HoldStatus } from '../../schemas/holds.ts'
import { EntityParams, tenantSecurity, TenantParams } from './parameters.ts'

const HoldListQuery = z.object({ status: HoldStatus.optional().describe('only holds with this status (default: all, newest first)') }).strict()

export async function holdRoutes(app: FastifyInstance, deps: Pick<ApiDeps, 'holds'>): Promise<void> {
  const holds = deps.holds
  if (!holds) return
  zodRoute(app, {
    method: 'GET',
    url: '/holds',
    tags: ['holds'],
    summary: 'Mass-deactivation holds: rounds that would have deactivated more users than the tenant threshold allows',
    security: tenantSecurity,
    params: TenantParams,
    querystring: HoldListQuery,
    response: { 200: z.object({ data: z.array(Hold) }), 400: ErrorBody },
    handler: async (request) => ({ data: await holds.list(request.params.tenant, request.query.status) }),
  })
  for (const action of ['release', 'discard'] as const) {
    zodRoute(app, {
      method: 'POST',
      url: `/holds/:id/${action}`,
      tags: ['holds'],
      summary:
        action === 'release'
          ? "Release the hold: its users' deactivations are applied (audited as cause hold-release, with the actor)"
          : 'Discard the hold: its users stay active until their next change from the HR system (audited with the actor)',
      security: tenantSecurity,
      params: EntityParams,
      body: HoldDecisionBody,
      response: { 200: z.object({ data: Hold }), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      handler: async (request) => {
        const { tenant, id } = request.params
        const outcome = await holds.decide(tenant, id, action, request.body.actor)
        if (outcome.kind === 'not_found') throw new ApiError(404, 'not_found', `no hold '${id}'`)
        if (outcome.kind === 'conflict') throw new ApiError(409, 'hold_decided', outcome.message)
        request.log.info({ tenant, holdId: id, action, users: outcome.hold.users.length }, `mass-deactivation hold ${action === 'release' ? 'released' : 'discarded'}`)
        return { data: outcome.hold }
      },
    })
  }
}
