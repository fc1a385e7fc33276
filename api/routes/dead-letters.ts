// A tenant's dead letters: list them, and re-drive one into the change log once its cause is fixed.
// Tenant-scoped like every /v1/tenants route: a dead letter's key is `tenant:komboId`, and a
// letter of another tenant is answered as not found.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { ApiError, ErrorBody } from '../errors.ts'
import type { ApiDeps } from '../ports.ts'
import { zodRoute } from '../route.ts'
import { TenantId, TenantParams, tenantSecurity, text } from './parameters.ts'

const DeadLetterView = z.object({
  id: z.string(),
  at: z.string(),
  reason: z.string(),
  key: z.string().nullable(),
  origin: z.record(z.string(), z.unknown()),
  redrivenAt: z.string().nullable(),
  /** The original bytes, base64: what a re-drive publishes again (only a prefix when rawTruncated). */
  raw: z.string(),
  /** sha256 of the content letters are deduplicated by. */
  contentHash: z.string(),
  /** Size of the original bytes; larger than raw when rawTruncated. */
  rawSize: z.number().int(),
  rawTruncated: z.boolean(),
  /** How many times the same content was dead-lettered while this letter was pending. */
  count: z.number().int(),
})
const DeadLetterParams = z.object({ tenant: TenantId, id: text(40) }).strict()
const DeadLetterQuery = z
  .object({
    all: z.enum(['true', 'false']).optional().describe('include re-driven letters'),
    limit: z.coerce.number().int().min(1).max(200).default(50).describe('letters per page (1–200, default 50)'),
    cursor: z.string().regex(/^[0-9A-Za-z_-]{1,64}$/).optional().describe('the `next` of the previous page'),
    resource: text(40).optional().describe('only letters of this Kombo resource, e.g. employees'),
    reason: text(200).optional().describe('only letters whose reason contains this text (case-insensitive)'),
  })
  .strict()

export async function deadLetterRoutes(app: FastifyInstance, deps: Pick<ApiDeps, 'deadLetters'>): Promise<void> {
  const admin = deps.deadLetters
  if (!admin) return
  zodRoute(app, {
    method: 'GET',
    url: '/dead-letters',
    tags: ['dead letters'],
    summary: "The tenant's dead letters (records that failed validation or processing), newest first, paged",
    security: tenantSecurity,
    params: TenantParams,
    querystring: DeadLetterQuery,
    response: { 200: z.object({ data: z.array(DeadLetterView), next: z.string().nullable() }), 400: ErrorBody },
    handler: async (request) => {
      const { tenant } = request.params
      const { all, limit, cursor, resource, reason } = request.query
      // One more than asked: whether there is a next page, without a count over the whole store.
      const letters = await admin.list(tenant, { includeRedriven: all === 'true', limit: limit + 1, before: cursor, resource, reason })
      const page = letters.slice(0, limit)
      return {
        data: page.map((l) => ({ ...l, raw: l.raw.toString('base64'), rawTruncated: l.rawSize > l.raw.length })),
        next: letters.length > limit ? page[page.length - 1].id : null,
      }
    },
  })
  zodRoute(app, {
    method: 'POST',
    url: '/dead-letters/:id/redrive',
    tags: ['dead letters'],
    summary: 'Publish the dead letter again; the processor decides afresh',
    security: tenantSecurity,
    params: DeadLetterParams,
    response: { 202: z.object({ redriven: z.string() }), 404: ErrorBody, 422: ErrorBody },
    handler: async (request, reply) => {
      const { tenant, id } = request.params
      const result = await admin.redrive(tenant, id)
      if (result.redriven.includes(id)) return reply.code(202).send({ redriven: id })
      const failed = result.failed.find((f) => f.id === id)
      if (failed) throw new ApiError(422, 'not_redrivable', `dead letter '${id}' cannot be re-driven: ${failed.reason}`)
      throw new ApiError(404, 'not_found', `no pending dead letter '${id}'`)
    },
  })
}
