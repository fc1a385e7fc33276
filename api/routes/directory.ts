// Teams and locations (read-only views, now or on the two time axes) and the tenant's sync status.
import { Hold } from '../../schemas/holds.ts'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { LearnAmpLocation, LearnAmpTeam, LearnAmpUser } from '../../schemas/learnamp.ts'
import { ApiError, ErrorBody } from '../errors.ts'
import type { ApiDeps } from '../ports.ts'
import { zodRoute } from '../route.ts'
import type { ViewResponses } from '../view-cache.ts'
import { EntityParams, PageQuery, TemporalQuery, TenantParams, tenantSecurity } from './parameters.ts'
import { axesOf, temporalResponse } from './temporal.ts'

const page = (item: z.ZodType) => z.object({ data: z.array(item), next: z.string().nullable() })
const TeamWithMembers = LearnAmpTeam.extend({
  members: z.array(LearnAmpUser.pick({ externalId: true, displayName: true, status: true })),
})

export async function directoryRoutes(app: FastifyInstance, deps: ApiDeps, views: ViewResponses): Promise<void> {
  const list = (tags: string[], summary: string, item: z.ZodType) =>
    ({ method: 'GET', tags, summary, security: tenantSecurity, params: TenantParams, querystring: PageQuery, response: { 200: page(item), 400: ErrorBody } }) as const
  const one = (tags: string[], summary: string, item: z.ZodType, past: z.ZodType) =>
    ({
      method: 'GET',
      tags,
      summary,
      description:
        'Without parameters: the view now (the bare document). With `asOf` (HR time) and/or `knownAt` (recorded time): ' +
        '`{ data, asOf, knownAt, knownSince, firstRecordedAt }`, rebuilt from the event store (a past team has no `members`).',
      security: tenantSecurity,
      params: EntityParams,
      querystring: TemporalQuery,
      response: { 200: z.union([item, temporalResponse(past)]), 400: ErrorBody, 404: ErrorBody },
    }) as const
  const isPast = (q: z.infer<typeof TemporalQuery>) => q.asOf !== undefined || q.knownAt !== undefined

  zodRoute(app, {
    ...list(['teams'], 'List teams', LearnAmpTeam),
    url: '/teams',
    handler: async (request) => views.listTeams(request.params.tenant, request.query),
  })
  zodRoute(app, {
    ...one(['teams'], 'One team with its members, now or on the two time axes', TeamWithMembers, LearnAmpTeam),
    url: '/teams/:id',
    handler: async (request) => {
      const { tenant, id } = request.params
      if (isPast(request.query)) {
        const read = await deps.history.teamAt(tenant, id, axesOf(request.query, deps.now))
        if (!read.found) throw new ApiError(404, 'not_found', read.message)
        return read.value
      }
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
    ...one(['locations'], 'One location, now or on the two time axes', LearnAmpLocation, LearnAmpLocation),
    url: '/locations/:id',
    handler: async (request) => {
      const { tenant, id } = request.params
      if (isPast(request.query)) {
        const read = await deps.history.locationAt(tenant, id, axesOf(request.query, deps.now))
        if (!read.found) throw new ApiError(404, 'not_found', read.message)
        return read.value
      }
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
        holds: z.object({ open: z.number().int(), data: z.array(Hold) }).optional().describe('open mass-deactivation holds (GET …/holds)'),
      }),
    },
    handler: async (request) => {
      const { tenant } = request.params
      const [data, initialSync, openHolds] = await Promise.all([deps.syncStatus.list(tenant), deps.syncStatus.initialSync?.(tenant), deps.syncStatus.openHolds?.(tenant)])
      return { data, ...(initialSync ? { initialSync } : {}), ...(openHolds ? { holds: { open: openHolds.length, data: openHolds } } : {}) }
    },
  })
}
