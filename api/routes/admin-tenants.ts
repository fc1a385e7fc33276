// /v1/admin/tenants: the operator API — onboard, inspect, change (with a dry run), rotate tokens,
// offboard. Thin: the commands live in tenants/administration.ts; this file validates, maps the
// commands' errors to the documented shape and says nothing a tenant token could use.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { TenantId } from '../../schemas/envelope.ts'
import { InvitePolicy } from '../../schemas/invite-policy.ts'
import { MassDeactivationThreshold, OptionalField, OptionalResource, TimeZone } from '../../schemas/tenant.ts'
import type { TenantAdminCommands } from '../admin-ports.ts'
import { ApiError, ErrorBody } from '../errors.ts'
import { inputSchema, responseSchema } from '../validation.ts'

export const adminSecurity = [{ adminToken: [] }]

const settingsFields = {
  invitePolicy: InvitePolicy.optional().describe('manual, immediate, or on_start_date with daysBefore'),
  timeZone: TimeZone.optional().describe('IANA time zone the HR dates are read in, e.g. Europe/Berlin'),
  pollIntervalMs: z.number().int().min(1000).nullable().optional().describe("null: the deployment's POLL_INTERVAL_MS"),
  optionalFields: z.array(OptionalField).optional().describe('optional Kombo fields kept for this tenant'),
  optionalResources: z.array(OptionalResource).optional().describe('optional Kombo resources synced and served for this tenant (legal-entities, absence-types, absences)'),
  massDeactivation: MassDeactivationThreshold.optional().describe('hold a poll round that would deactivate more than this'),
  paused: z.boolean().optional().describe('true: not polled until resumed; the API keeps serving the tenant'),
  actor: z.string().min(1).max(200).optional().describe('who asks, for the audit trail'),
}

export const CreateTenantBody = z
  .object({ id: TenantId, integrationId: z.string().min(1).max(200).describe('the Kombo integration id'), ...settingsFields })
  .strict()
export const PatchTenantBody = z.object(settingsFields).strict()
const OffboardBody = z
  .object({
    actor: z.string().min(1).max(200).optional(),
    reason: z.string().trim().min(1).max(500).optional().describe('why (e.g. a ticket number); kept in the audit record'),
  })
  .strict()
  .nullish()
const RelinkBody = z
  .object({ integrationId: z.string().min(1).max(200).describe("the reconnected customer's new Kombo integration id"), actor: z.string().min(1).max(200).optional() })
  .strict()
const ActorBody = z.object({ actor: z.string().min(1).max(200).optional() }).strict().nullish()
const TenantPath = z.object({ id: z.string().min(1).max(64) }).strict()
const TokenPath = z.object({ id: z.string().min(1).max(64), tokenId: z.string().min(1).max(100) }).strict()
const DryRunQuery = z.object({ dryRun: z.enum(['true', 'false']).optional().describe('true: answer what the change would do, change nothing') }).strict()
const EraseQuery = z.object({ erase: z.enum(['true', 'false']).optional().describe("true: also crypto-shred every employee's personal data") }).strict()

const TenantView = z.object({
  id: z.string(),
  integrationId: z.string().nullable(),
  status: z.enum(['active', 'paused', 'offboarded']),
  failingReason: z.string().nullable(),
  settings: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  updatedAt: z.string(),
})
const error = responseSchema(ErrorBody)

const errorStatus: Record<string, [number, string]> = {
  TenantNotFoundError: [404, 'not_found'],
  TenantExistsError: [409, 'tenant_exists'],
  IntegrationAlreadyBoundError: [409, 'integration_bound'],
  TenantOffboardedError: [409, 'tenant_offboarded'],
  TokenInUseError: [409, 'token_in_use'],
}

/** The commands' typed errors, in the documented error shape (their messages name no secret). */
async function mapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    const known = err instanceof Error ? errorStatus[err.name] : undefined
    if (known) throw new ApiError(known[0], known[1], (err as Error).message)
    throw err
  }
}

const actorOf = (body: { actor?: string } | null | undefined) => body?.actor ?? 'admin-api'

export async function adminTenantRoutes(app: FastifyInstance, tenants: TenantAdminCommands): Promise<void> {
  const tags = ['admin']
  app.post(
    '/tenants',
    {
      schema: {
        tags,
        summary: 'Onboard a tenant: binds a Kombo integration, returns its first API token (shown once)',
        security: adminSecurity,
        body: inputSchema(CreateTenantBody),
        response: { 201: responseSchema(z.object({ tenant: TenantView, token: z.object({ id: z.string(), token: z.string() }) })), 400: error, 401: error, 409: error },
      },
    },
    async (request, reply) => {
      const { id, integrationId, paused, actor, ...settings } = request.body as z.infer<typeof CreateTenantBody>
      const created = await mapped(() => tenants.create({ id, integrationId, settings, paused }, actor ?? 'admin-api'))
      request.log.info({ tenant: id, tokenId: created.token.id }, 'tenant created')
      return reply.code(201).send(created)
    },
  )

  app.get(
    '/tenants',
    { schema: { tags, summary: 'Every tenant with its settings (no tokens)', security: adminSecurity, response: { 200: responseSchema(z.object({ data: z.array(TenantView) })), 401: error } } },
    async () => ({ data: await tenants.list() }),
  )

  app.get(
    '/tenants/:id',
    {
      schema: {
        tags,
        summary: "One tenant: settings, sync health, counts, token ids and audit trail (never tokens)",
        security: adminSecurity,
        params: inputSchema(TenantPath),
        response: { 401: error, 404: error },
      },
    },
    async (request) => mapped(() => tenants.detail((request.params as z.infer<typeof TenantPath>).id)),
  )

  app.patch(
    '/tenants/:id',
    {
      schema: {
        tags,
        summary: 'Change invite policy, time zone, poll interval, optional fields, mass-deactivation threshold or paused; ?dryRun=true says what it would do',
        security: adminSecurity,
        params: inputSchema(TenantPath),
        querystring: inputSchema(DryRunQuery),
        body: inputSchema(PatchTenantBody),
        response: { 400: error, 401: error, 404: error, 409: error },
      },
    },
    async (request) => {
      const { id } = request.params as z.infer<typeof TenantPath>
      const { actor, ...patch } = request.body as z.infer<typeof PatchTenantBody>
      const dryRun = (request.query as z.infer<typeof DryRunQuery>).dryRun === 'true'
      const outcome = await mapped(() => tenants.patch(id, patch, { dryRun, actor: actor ?? 'admin-api' }))
      if (!dryRun) request.log.info({ tenant: id, changed: outcome.changes.map((c) => c.field) }, 'tenant settings changed')
      return outcome
    },
  )

  app.post(
    '/tenants/:id/relink',
    {
      schema: {
        tags,
        summary:
          'Re-link the tenant to a reconnected Kombo integration (new ids): its records are matched to the existing users by remote_id, then work email, before it is polled; the outcome (with what could not be matched) is in GET /v1/admin/tenants/{id} under `relinks`',
        security: adminSecurity,
        params: inputSchema(TenantPath),
        body: inputSchema(RelinkBody),
        response: { 202: responseSchema(z.record(z.string(), z.unknown())), 401: error, 404: error, 409: error, 501: error },
      },
    },
    async (request, reply) => {
      const { id } = request.params as z.infer<typeof TenantPath>
      const { integrationId, actor } = request.body as z.infer<typeof RelinkBody>
      const run = await mapped(async () => (tenants.relink ? tenants.relink(id, integrationId, actor ?? 'admin-api') : null))
      if (!run) throw new ApiError(501, 'not_implemented', 're-links are not available in this deployment')
      request.log.info({ tenant: id, toIntegrationId: integrationId, state: run.state }, 'tenant re-link requested')
      return reply.code(202).send(run)
    },
  )

  app.post(
    '/tenants/:id/tokens',
    {
      schema: {
        tags,
        summary: 'Issue another API token for the tenant (shown once): rotate without downtime, then revoke the old one',
        security: adminSecurity,
        params: inputSchema(TenantPath),
        body: inputSchema(ActorBody),
        response: { 201: responseSchema(z.object({ id: z.string(), token: z.string() })), 401: error, 404: error, 409: error },
      },
    },
    async (request, reply) => {
      const { id } = request.params as z.infer<typeof TenantPath>
      const issued = await mapped(() => tenants.issueToken(id, actorOf(request.body as z.infer<typeof ActorBody>)))
      request.log.info({ tenant: id, tokenId: issued.id }, 'tenant token issued')
      return reply.code(201).send(issued)
    },
  )

  app.delete(
    '/tenants/:id/tokens/:tokenId',
    {
      schema: {
        tags,
        summary: 'Revoke one of the tenant\'s API tokens (refused by every API process within seconds)',
        security: adminSecurity,
        params: inputSchema(TokenPath),
        body: inputSchema(ActorBody),
        response: { 200: responseSchema(z.object({ status: z.literal('revoked'), id: z.string() })), 401: error, 404: error },
      },
    },
    async (request) => {
      const { id, tokenId } = request.params as z.infer<typeof TokenPath>
      const revoked = await mapped(() => tenants.revokeToken(id, tokenId, actorOf(request.body as z.infer<typeof ActorBody>)))
      if (!revoked) throw new ApiError(404, 'not_found', `tenant '${id}' has no token '${tokenId}'`)
      request.log.info({ tenant: id, tokenId }, 'tenant token revoked')
      return { status: 'revoked' as const, id: tokenId }
    },
  )

  app.delete(
    '/tenants/:id',
    {
      schema: {
        tags,
        summary: "Offboard the tenant: polling stops, its tokens are refused; ?erase=true also crypto-shreds every employee",
        security: adminSecurity,
        params: inputSchema(TenantPath),
        querystring: inputSchema(EraseQuery),
        body: inputSchema(OffboardBody),
        response: { 200: responseSchema(z.object({ status: z.literal('offboarded'), tenant: TenantView, employeesErased: z.number() })), 401: error, 404: error },
      },
    },
    async (request) => {
      const { id } = request.params as z.infer<typeof TenantPath>
      const body = request.body as z.infer<typeof OffboardBody>
      const erase = (request.query as z.infer<typeof EraseQuery>).erase === 'true'
      const outcome = await mapped(() => tenants.offboard(id, { erase, actor: actorOf(body), reason: body?.reason ?? null }))
      request.log.info({ tenant: id, erase, employeesErased: outcome.employeesErased }, 'tenant offboarded')
      return { status: 'offboarded' as const, ...outcome }
    },
  )
}
