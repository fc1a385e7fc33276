// Teams and locations (read-only views) and the tenant's sync status.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { LearnAmpLocation, LearnAmpTeam, LearnAmpUser } from '../../schemas/learnamp.ts'
import { ApiError, ErrorBody } from '../errors.ts'
import type { ApiDeps } from '../ports.ts'
import { zodRoute } from '../route.ts'
import type { ViewResponses } from '../view-cache.ts'
import { EntityParams, PageQuery, TenantParams, tenantSecurity } from './parameters.ts'

const page = (item: z.ZodType) => z.object({ data: z.array(item), next: z.string().nullable() })
const TeamWithMembers = LearnAmpTeam.extend({
  members: z.array(LearnAmpUser.pick({ externalId: true, displayName: true, status: true })),
})

export async function directoryRoutes(app: FastifyInstance, deps: ApiDeps, views: ViewResponses): Promise<void> {
  const list = (tags: string[], summary: string, item: z.ZodType) =>
    ({ method: 'GET', tags, summary, security: tenantSecurity, params: TenantParams, querystring: PageQuery, response: { 200: page(item), 400: ErrorBody } }) as const
  const one = (tags: string[], summary: string, item: z.ZodType) =>
    ({ method: 'GET', tags, summary, security: tenantSecurity, params: EntityParams, response: { 200: item, 404: ErrorBody } }) as const

  zodRoute(app, {
    ...list(['teams'], 'List teams', LearnAmpTeam),
    url: '/teams',
    handler: async (request) => views.listTeams(request.params.tenant, request.query),
  })
  zodRoute(app, {
    ...one(['teams'], 'One team with its members', TeamWithMembers),
    url: '/teams/:id',
    handler: async (request) => {
      const { tenant, id } = request.params
      const team = await views.getTeam(tenant, id)
      if (!team) throw new ApiError(404, 'not_found', `no team '${id}'`)
      return team
    },
  })

  zodRoute(app, {
    ...list(['locations'], 'List locations', LearnAmpLocation),
    url: '/locations',
    handler: async (request) => views.listLocations(request.params.tenant, request.query),
  })
  zodRoute(app, {
    ...one(['locations'], 'One location', LearnAmpLocation),
    url: '/locations/:id',
    handler: async (request) => {
      const { tenant, id } = request.params
      const location = await views.getLocation(tenant, id)
      if (!location) throw new ApiError(404, 'not_found', `no location '${id}'`)
      return location
    },
  })

  zodRoute(app, {
    method: 'GET',
    url: '/sync',
    tags: ['sync'],
    summary: 'Sync status per resource (watermarks, last poll, lag, errors) and the initial sync progress',
    security: tenantSecurity,
    params: TenantParams,
    response: {
      200: z.object({
        data: z.array(z.record(z.string(), z.unknown())),
        initialSync: z
          .object({
            state: z.enum(['not_started', 'polling', 'processing', 'done']),
            polled: z.number().int(),
            processed: z.number().int(),
            visible: z.number().int(),
            ratePerSecond: z.number(),
            startedAt: z.string().nullable(),
            finishedAt: z.string().nullable(),
          })
          .optional(),
      }),
    },
    handler: async (request) => {
      const { tenant } = request.params
      const [data, initialSync] = await Promise.all([deps.syncStatus.list(tenant), deps.syncStatus.initialSync?.(tenant)])
      return initialSync ? { data, initialSync } : { data }
    },
  })
}
