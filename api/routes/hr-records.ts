// Legal entities, absence types and absences: the remaining HRIS scopes, read-only, tenant-scoped
// and paginated like teams and locations. Served when the deployment wires a reader (hrRecords).
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { AbsenceTypeView, AbsenceView, LegalEntityView, type HrRecordKind } from '../../schemas/hr-records.ts'
import { ApiError, ErrorBody } from '../errors.ts'
import type { ApiDeps } from '../ports.ts'
import { zodRoute } from '../route.ts'
import { EntityId, EntityParams, PageQuery, TenantParams, tenantSecurity } from './parameters.ts'

const page = (item: z.ZodType) => z.object({ data: z.array(item), next: z.string().nullable() })
const day = z.iso.date().describe('a calendar day, YYYY-MM-DD')

export const AbsenceListQuery = PageQuery.extend({
  employee: EntityId.optional().describe('only this employee’s absences (Kombo employee id)'),
  from: day.optional().describe('only absences ending on or after this day'),
  to: day.optional().describe('only absences starting on or before this day'),
}).strict()

export async function hrRecordRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const reader = deps.hrRecords
  if (!reader) return
  const resources: Array<{ path: string; kind: HrRecordKind; tag: string; noun: string; item: z.ZodType }> = [
    { path: 'legal-entities', kind: 'legalEntity', tag: 'legal entities', noun: 'legal entity', item: LegalEntityView },
    { path: 'absence-types', kind: 'absenceType', tag: 'absences', noun: 'absence type', item: AbsenceTypeView },
  ]
  for (const r of resources) {
    zodRoute(app, {
      method: 'GET',
      url: `/${r.path}`,
      tags: [r.tag],
      summary: `List ${r.noun === 'legal entity' ? 'legal entities' : `${r.noun}s`}`,
      security: tenantSecurity,
      params: TenantParams,
      querystring: PageQuery,
      response: { 200: page(r.item), 400: ErrorBody, 404: ErrorBody },
      handler: async (request) => reader.listHrRecords(request.params.tenant, r.kind, request.query),
    })
    zodRoute(app, {
      method: 'GET',
      url: `/${r.path}/:id`,
      tags: [r.tag],
      summary: `One ${r.noun}`,
      security: tenantSecurity,
      params: EntityParams,
      response: { 200: r.item, 404: ErrorBody },
      handler: async (request) => {
        const found = await reader.getHrRecord(request.params.tenant, r.kind, request.params.id)
        if (!found) throw new ApiError(404, 'not_found', `no ${r.noun} '${request.params.id}'`)
        return found
      },
    })
  }

  zodRoute(app, {
    method: 'GET',
    url: '/absences',
    tags: ['absences'],
    summary: 'List absences, optionally of one employee and overlapping a range of days',
    security: tenantSecurity,
    params: TenantParams,
    querystring: AbsenceListQuery,
    response: { 200: page(AbsenceView), 400: ErrorBody, 404: ErrorBody },
    handler: async (request) => {
      const { from, to } = request.query
      if (from && to && from > to) throw new ApiError(400, 'invalid_request', `'from' (${from}) is after 'to' (${to})`)
      return reader.listHrRecords(request.params.tenant, 'absence', request.query)
    },
  })
  zodRoute(app, {
    method: 'GET',
    url: '/absences/:id',
    tags: ['absences'],
    summary: 'One absence',
    security: tenantSecurity,
    params: EntityParams,
    response: { 200: AbsenceView, 404: ErrorBody },
    handler: async (request) => {
      const found = await reader.getHrRecord(request.params.tenant, 'absence', request.params.id)
      if (!found) throw new ApiError(404, 'not_found', `no absence '${request.params.id}'`)
      return found
    },
  })
}
