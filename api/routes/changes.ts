// The tenant-wide audit change log: every change of a Learn Amp user, field by field, filtered by
// time (HR or recorded), type, user and field, in a stable order with cursor pagination. JSON by
// default; `Accept: text/csv` gives the same page as CSV (one row per field change) for spreadsheets.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { ChangeLogEntry } from '../../schemas/audit.ts'
import { ApiError, ErrorBody } from '../errors.ts'
import type { ApiDeps } from '../ports.ts'
import { inputSchema, responseSchema } from '../validation.ts'
import { ChangeLogQuery, TenantParams, tenantSecurity } from './parameters.ts'
import { changesCsv } from './changes-csv.ts'

const error = responseSchema(ErrorBody)

export async function changeLogRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get(
    '/changes',
    {
      schema: {
        tags: ['audit'],
        summary: "The tenant's change log: every change of a user, field by field, and of the tenant's own settings",
        description:
          'Ordered by HR time (`axis=hr`, default) or recorded time (`axis=recorded`), then by event position; `from` inclusive, ' +
          '`to` exclusive on that axis. `Accept: text/csv` returns the same page as CSV, one row per field change, with the next ' +
          'cursor in the `x-next-cursor` header. Entries of the tenant itself (`Tenant…` types: settings, pause and resume, tokens, ' +
          'integration, offboarding) have `userId: null`; a `userId` or `field` filter leaves them out.',
        security: tenantSecurity,
        params: inputSchema(TenantParams),
        querystring: inputSchema(ChangeLogQuery),
        response: { 200: responseSchema(z.object({ data: z.array(ChangeLogEntry), next: z.string().nullable() })), 400: error, 404: error },
      },
    },
    async (request, reply) => {
      if (!deps.changes) throw new ApiError(404, 'not_found', 'the change log is not served by this process')
      const { tenant } = request.params as z.infer<typeof TenantParams>
      const query = request.query as z.infer<typeof ChangeLogQuery>
      const page = await deps.changes.listChanges(tenant, query)
      if (wantsCsv(request.headers.accept)) {
        if (page.next) reply.header('x-next-cursor', page.next)
        return reply.type('text/csv; charset=utf-8').send(changesCsv(page.data))
      }
      return page
    },
  )
}

/** CSV when the client asks for it before (or instead of) JSON. */
function wantsCsv(accept: string | undefined): boolean {
  if (!accept) return false
  const types = accept.split(',').map((part) => part.split(';')[0].trim().toLowerCase())
  const csv = types.indexOf('text/csv')
  const json = types.indexOf('application/json')
  return csv >= 0 && (json < 0 || csv < json)
}
