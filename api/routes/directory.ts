// Teams and locations (read-only views) and the tenant's sync status.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { LearnAmpLocation, LearnAmpTeam, LearnAmpUser } from '../../schemas/learnamp.ts'
import { ApiError, ErrorBody } from '../errors.ts'
import type { ApiDeps } from '../ports.ts'
import { inputSchema, responseSchema } from '../validation.ts'
import { EntityParams, PageQuery, TenantParams, tenantSecurity } from './parameters.ts'

type Tenant = z.infer<typeof TenantParams>
type Entity = z.infer<typeof EntityParams>
type PageArgs = z.infer<typeof PageQuery>

const error = responseSchema(ErrorBody)
const page = (item: z.ZodType) => responseSchema(z.object({ data: z.array(item), next: z.string().nullable() }))
const TeamWithMembers = LearnAmpTeam.extend({
  members: z.array(LearnAmpUser.pick({ externalId: true, displayName: true, status: true })),
})

export async function directoryRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const list = (tags: string[], summary: string, item: z.ZodType) => ({
    schema: {
      tags,
      summary,
      security: tenantSecurity,
      params: inputSchema(TenantParams),
      querystring: inputSchema(PageQuery),
      response: { 200: page(item), 400: error },
    },
  })
  const one = (tags: string[], summary: string, item: z.ZodType) => ({
    schema: {
      tags,
      summary,
      security: tenantSecurity,
      params: inputSchema(EntityParams),
      response: { 200: responseSchema(item), 404: error },
    },
  })

  app.get('/teams', list(['teams'], 'List teams', LearnAmpTeam), async (request) =>
    deps.views.listTeams((request.params as Tenant).tenant, request.query as PageArgs),
  )
  app.get('/teams/:id', one(['teams'], 'One team with its members', TeamWithMembers), async (request) => {
    const { tenant, id } = request.params as Entity
    const team = await deps.views.getTeam(tenant, id)
    if (!team) throw new ApiError(404, 'not_found', `no team '${id}'`)
    return team
  })

  app.get('/locations', list(['locations'], 'List locations', LearnAmpLocation), async (request) =>
    deps.views.listLocations((request.params as Tenant).tenant, request.query as PageArgs),
  )
  app.get('/locations/:id', one(['locations'], 'One location', LearnAmpLocation), async (request) => {
    const { tenant, id } = request.params as Entity
    const location = await deps.views.getLocation(tenant, id)
    if (!location) throw new ApiError(404, 'not_found', `no location '${id}'`)
    return location
  })

  app.get(
    '/sync',
    {
      schema: {
        tags: ['sync'],
        summary: 'Sync status per resource: watermarks, last poll, lag, errors',
        security: tenantSecurity,
        params: inputSchema(TenantParams),
        response: { 200: responseSchema(z.object({ data: z.array(z.record(z.string(), z.unknown())) })) },
      },
    },
    async (request) => ({ data: await deps.syncStatus.list((request.params as Tenant).tenant) }),
  )
}
