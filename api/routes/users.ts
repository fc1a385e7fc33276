// Users: the list with filters, one user (optionally as of a past instant), its event history,
// and the manual invite command.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { LearnAmpUser } from '../../schemas/learnamp.ts'
import { ApiError, ErrorBody } from '../errors.ts'
import { InviteNotAllowedError, UserNotFoundError, type ApiDeps } from '../ports.ts'
import { inputSchema, responseSchema } from '../validation.ts'
import { EntityParams, InviteBody, TenantParams, UserListQuery, UserQueryString, tenantSecurity } from './parameters.ts'

const HistoryEntry = z.object({
  revision: z.string(),
  position: z.string(),
  type: z.string(),
  recordedAt: z.string(),
  data: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
})
const error = responseSchema(ErrorBody)
const notFound = (tenantless: string) => new ApiError(404, 'not_found', tenantless)

const isNamed = (err: unknown, name: string) => err instanceof Error && err.name === name

export async function userRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'List users, filtered and paginated',
        security: tenantSecurity,
        params: inputSchema(TenantParams),
        querystring: inputSchema(UserListQuery),
        response: { 200: responseSchema(z.object({ data: z.array(LearnAmpUser), next: z.string().nullable() })), 400: error },
      },
    },
    async (request) => {
      const { tenant } = request.params as z.infer<typeof TenantParams>
      return deps.views.listUsers(tenant, request.query as z.infer<typeof UserListQuery>)
    },
  )

  app.get(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'One user, now or as of a past instant',
        security: tenantSecurity,
        params: inputSchema(EntityParams),
        querystring: inputSchema(UserQueryString),
        response: { 200: responseSchema(LearnAmpUser), 400: error, 404: error },
      },
    },
    async (request) => {
      const { tenant, id } = request.params as z.infer<typeof EntityParams>
      const { asOf } = request.query as z.infer<typeof UserQueryString>
      if (asOf === undefined) {
        const user = await deps.views.getUser(tenant, id)
        if (!user) throw notFound(`no user '${id}'`)
        return user
      }
      const user = await deps.history.userAsOf(tenant, id, new Date(asOf))
      if (!user) throw notFound(`no user '${id}' as of ${asOf}`)
      return user
    },
  )

  app.get(
    '/users/:id/history',
    {
      schema: {
        tags: ['users'],
        summary: "Every event of the user's stream, oldest first",
        security: tenantSecurity,
        params: inputSchema(EntityParams),
        response: { 200: responseSchema(z.object({ data: z.array(HistoryEntry) })), 404: error },
      },
    },
    async (request) => {
      const { tenant, id } = request.params as z.infer<typeof EntityParams>
      const events = await deps.history.userHistory(tenant, id)
      if (!events) throw notFound(`no user '${id}'`)
      return { data: events }
    },
  )

  app.post(
    '/users/:id/invite',
    {
      schema: {
        tags: ['users'],
        summary: 'Invite the user to Learn Amp now',
        security: tenantSecurity,
        params: inputSchema(EntityParams),
        body: inputSchema(InviteBody),
        response: { 202: responseSchema(z.object({ status: z.literal('invited') })), 404: error, 409: error },
      },
    },
    async (request, reply) => {
      const { tenant, id } = request.params as z.infer<typeof EntityParams>
      const actor = (request.body as z.infer<typeof InviteBody>)?.actor ?? 'api'
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
  )
}
