// DELETE /users/:id/personal-data: GDPR erasure of one employee (see docs/operations.md).
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { ApiError, ErrorBody } from '../errors.ts'
import { UserNotFoundError, type ApiDeps } from '../ports.ts'
import { zodRoute } from '../route.ts'
import { EntityParams, isStorableText, STORABLE_TEXT_PROBLEM, tenantSecurity, text } from './parameters.ts'

export const ErasureBody = z
  .object({
    reason: z.string().trim().min(1).max(500).refine(isStorableText, { message: STORABLE_TEXT_PROBLEM }).describe('why (e.g. a ticket number); kept in the audit record, so no personal data here'),
    actor: text(200).optional().describe('who asked for the erasure, for the audit record'),
  })
  .strict()

const Receipt = z.object({ status: z.literal('erased'), erasedAt: z.string(), alreadyErased: z.boolean() })

export async function erasureRoutes(app: FastifyInstance, deps: Pick<ApiDeps, 'erasure'>): Promise<void> {
  zodRoute(app, {
    method: 'DELETE',
    url: '/users/:id/personal-data',
    tags: ['users'],
    summary: "Erase the employee's personal data (GDPR): views purged, history made unreadable, erasure audited",
    security: tenantSecurity,
    params: EntityParams,
    body: ErasureBody,
    response: { 200: Receipt, 400: ErrorBody, 404: ErrorBody },
    handler: async (request) => {
      const { tenant, id } = request.params
      const body = request.body
      if (!deps.erasure) throw new ApiError(404, 'erasure_disabled', 'personal-data erasure is not available in this process (it runs where the API has the event store)')
      try {
        const receipt = await deps.erasure.eraseEmployee({ tenant, employeeId: id, reason: body.reason, actor: body.actor ?? 'api' })
        request.log.info({ tenant, employeeId: id, alreadyErased: receipt.alreadyErased }, 'employee personal data erased')
        return { status: 'erased' as const, erasedAt: receipt.erasedAt, alreadyErased: receipt.alreadyErased }
      } catch (err) {
        if (err instanceof UserNotFoundError || (err instanceof Error && err.name === 'UserNotFoundError')) throw new ApiError(404, 'not_found', `no user '${id}'`)
        throw err
      }
    },
  })
}
