// Users: the list with filters, one user (now, or on the two time axes), its event history with
// readable changes, and the manual invite command.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { LearnAmpUser } from '../../schemas/learnamp.ts'
import { ApiError, ErrorBody } from '../errors.ts'
import { InviteNotAllowedError, UserNotFoundError, type ApiDeps } from '../ports.ts'
import { zodRoute } from '../route.ts'
import type { ViewResponses } from '../view-cache.ts'
import { ChangeEntry } from '../../schemas/audit.ts'
import { axesOf, temporalResponse } from './temporal.ts'
import { EntityParams, InviteBody, TemporalQuery, TenantParams, UserListQuery, tenantSecurity } from './parameters.ts'

const HistoryEntry = z.object({
  revision: z.string(),
  position: z.string(),
  type: z.string(),
  recordedAt: z.string(),
  data: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
})
const notFound = (tenantless: string) => new ApiError(404, 'not_found', tenantless)

const isNamed = (err: unknown, name: string) => err instanceof Error && err.name === name

export async function userRoutes(app: FastifyInstance, deps: ApiDeps, views: ViewResponses): Promise<void> {
  zodRoute(app, {
    method: 'GET',
    url: '/users',
    tags: ['users'],
    summary: 'List users, filtered and paginated',
    security: tenantSecurity,
    params: TenantParams,
    querystring: UserListQuery,
    response: { 200: z.object({ data: z.array(LearnAmpUser), next: z.string().nullable() }), 400: ErrorBody },
    handler: async (request) => views.listUsers(request.params.tenant, request.query),
  })

  zodRoute(app, {
    method: 'GET',
    url: '/users/:id',
    tags: ['users'],
    summary: 'One user: now, or on the two time axes (asOf: HR time, knownAt: recorded time)',
    description:
      'Without parameters: the user as the views hold it now (the bare document). With `asOf` and/or `knownAt`: ' +
      '`{ data, asOf, knownAt, knownSince, firstRecordedAt }`, rebuilt from the event store; 404 when unknown on those axes.',
    security: tenantSecurity,
    params: EntityParams,
    querystring: TemporalQuery,
    response: { 200: z.union([LearnAmpUser, temporalResponse(LearnAmpUser)]), 400: ErrorBody, 404: ErrorBody },
    handler: async (request) => {
      const { tenant, id } = request.params
      const query = request.query
      // The fast path: no time axis asked, so the (cached, serialised) view answers as it is.
      if (query.asOf === undefined && query.knownAt === undefined) {
        const user = await views.getUser(tenant, id)
        if (!user) throw notFound(`no user '${id}'`)
        return user
      }
      const read = await deps.history.userAt(tenant, id, axesOf(query, deps.now))
      if (!read.found) throw notFound(read.message)
      return read.value
    },
  })

  zodRoute(app, {
    method: 'GET',
    url: '/users/:id/history',
    tags: ['users'],
    summary: "Every event of the user's stream, oldest first, and the readable changes they made",
    description: '`data`: the raw events; `changes`: the same history as audit entries (field-level before → after, HR and recorded time, cause), as `GET /changes` lists them.',
    security: tenantSecurity,
    params: EntityParams,
    response: { 200: z.object({ data: z.array(HistoryEntry), changes: z.array(ChangeEntry) }), 404: ErrorBody },
    handler: async (request) => {
      const { tenant, id } = request.params
      const history = await deps.history.userHistory(tenant, id)
      if (!history) throw notFound(`no user '${id}'`)
      return { data: history.events, changes: history.changes }
    },
  })

  zodRoute(app, {
    method: 'POST',
    url: '/users/:id/invite',
    tags: ['users'],
    summary: 'Invite the user to Learn Amp now',
    security: tenantSecurity,
    params: EntityParams,
    body: InviteBody,
    response: { 202: z.object({ status: z.literal('invited') }), 404: ErrorBody, 409: ErrorBody },
    handler: async (request, reply) => {
      const { tenant, id } = request.params
      const actor = request.body?.actor ?? 'api'
      try {
        const result = await deps.commands.inviteUser(tenant, id, actor)
        return reply.code(202).send({ status: result.status })
      } catch (err) {
        if (err instanceof UserNotFoundError || isNamed(err, 'UserNotFoundError')) throw notFound(`no user '${id}'`)
        if (err instanceof InviteNotAllowedError || isNamed(err, 'InviteNotAllowedError')) {
          const reason = String((err as { reason?: unknown }).reason ?? 'not allowed now')
          throw new ApiError(409, 'invite_not_allowed', `user '${id}' cannot be invited: ${reason}`)
        }
        throw err
      }
    },
  })
}
