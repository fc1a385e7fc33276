// DELETE /users/:id/personal-data: GDPR erasure of one employee (see docs/operations.md).
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { ApiError, ErrorBody } from '../errors.ts'
import { UserNotFoundError, type ApiDeps } from '../ports.ts'
import { inputSchema, responseSchema } from '../validation.ts'
import { EntityParams, tenantSecurity } from './parameters.ts'

export const ErasureBody = z
  .object({
    reason: z.string().trim().min(1).max(500).describe('why (e.g. a ticket number); kept in the audit record, so no personal data here'),
    actor: z.string().min(1).max(200).optional().describe('who asked for the erasure, for the audit record'),
  })
  .strict()

const Receipt = z.object({ status: z.literal('erased'), erasedAt: z.string(), alreadyErased: z.boolean() })
const error = responseSchema(ErrorBody)

export async function erasureRoutes(app: FastifyInstance, deps: Pick<ApiDeps, 'erasure'>): Promise<void> {
  app.delete(
    '/users/:id/personal-data',
    {
      schema: {
        tags: ['users'],
        summary: "Erase the employee's personal data (GDPR): views purged, history made unreadable, erasure audited",
        security: tenantSecurity,
        params: inputSchema(EntityParams),
        body: inputSchema(ErasureBody),
        response: { 200: responseSchema(Receipt), 400: error, 404: error },
      },
    },
    async (request) => {
      const { tenant, id } = request.params as z.infer<typeof EntityParams>
      const body = request.body as z.infer<typeof ErasureBody>
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
  )
}
