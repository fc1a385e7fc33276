// Test/demo control API under /_control: change the simulated HR data, inject faults, run churn.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { z } from 'zod'
import { KomboResource } from '../schemas/kombo.ts'
import { SimulatedRecordNotFoundError, type SimulatedCompany } from './company.ts'
import type { SimulatorFault } from './faults.ts'
import { ControlRequestError, readJsonBody, sendJson } from './http-io.ts'
import type { RequestLogEntry } from './kombo-routes.ts'

export const CONTROL_PATH = '/_control'

export interface ControlContext {
  integration(id: string): SimulatedCompany
  reconnect(fromId: string, toId: string): SimulatedCompany
  injectFault(fault: SimulatorFault): void
  clearFaults(): void
  startChurn(ratePerSecond: number): void
  stopChurn(): void
  requestLog: RequestLogEntry[]
}

const scope = { integrationId: z.string().min(1).optional(), resource: KomboResource.optional(), times: z.number().int().positive().optional() }
const FaultBody = z.discriminatedUnion('kind', [
  z.object({ ...scope, kind: z.literal('status'), status: z.number().int().min(100).max(599), retryAfterSeconds: z.number().nonnegative().optional() }),
  z.object({ ...scope, kind: z.literal('slow'), delayMs: z.number().nonnegative() }),
  z.object({ ...scope, kind: z.literal('truncated') }),
  z.object({ ...scope, kind: z.literal('not-json') }),
  z.object({ ...scope, kind: z.literal('invalid-record'), patch: z.record(z.string(), z.unknown()) }),
])

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body)
  if (!result.success) throw new ControlRequestError(z.prettifyError(result.error))
  return result.data
}

export async function handleControlRequest(req: IncomingMessage, res: ServerResponse, url: URL, ctx: ControlContext): Promise<void> {
  try {
    const result = await route(req, url, ctx)
    sendJson(res, result.status, result.body)
  } catch (err) {
    if (err instanceof SimulatedRecordNotFoundError) return sendJson(res, 404, { error: err.message })
    if (err instanceof ControlRequestError || err instanceof RangeError) return sendJson(res, 400, { error: err.message })
    throw err
  }
}

type Reply = { status: number; body: unknown }

async function route(req: IncomingMessage, url: URL, ctx: ControlContext): Promise<Reply> {
  const parts = url.pathname.slice(CONTROL_PATH.length).split('/').filter(Boolean).map(decodeURIComponent)
  const method = req.method ?? 'GET'
  const notFound: Reply = { status: 404, body: { error: `no control route ${method} ${url.pathname}` } }

  if (parts[0] === 'requests' && method === 'GET') return { status: 200, body: ctx.requestLog }
  if (parts[0] === 'faults' && parts.length === 1) {
    if (method === 'POST') {
      ctx.injectFault(parse(FaultBody, await readJsonBody(req)) as SimulatorFault)
      return { status: 201, body: { ok: true } }
    }
    if (method === 'DELETE') {
      ctx.clearFaults()
      return { status: 200, body: { ok: true } }
    }
  }
  if (parts[0] === 'churn' && parts.length === 1) {
    if (method === 'POST') {
      const { ratePerSecond } = parse(z.object({ ratePerSecond: z.number().nonnegative() }), await readJsonBody(req))
      ctx.startChurn(ratePerSecond)
      return { status: 200, body: { ok: true, ratePerSecond } }
    }
    if (method === 'DELETE') {
      ctx.stopChurn()
      return { status: 200, body: { ok: true } }
    }
  }
  if (parts[0] !== 'integrations' || parts[1] === undefined) return notFound
  if (parts[2] === 'reconnect' && parts.length === 3 && method === 'POST') {
    const { from } = parse(z.object({ from: z.string().min(1) }), await readJsonBody(req))
    const copy = ctx.reconnect(from, parts[1])
    return { status: 201, body: { integrationId: parts[1], from, employees: copy.list('employees', { includeDeleted: true }).length } }
  }
  const company = ctx.integration(parts[1])
  const [, , resourceText, recordId, action] = parts

  if (resourceText === 'random-change' && parts.length === 3 && method === 'POST') return { status: 200, body: company.randomChange() }
  if (resourceText === undefined) return notFound
  const resource = parse(KomboResource, resourceText)

  if (recordId === undefined) {
    if (method === 'GET') return { status: 200, body: company.list(resource, { includeDeleted: url.searchParams.get('include_deleted') !== 'false' }) }
    if (method === 'POST' && resource === 'employees') return { status: 201, body: company.hire(await readJsonBody(req)) }
    return notFound
  }
  if (action === undefined) {
    if (method === 'GET') {
      const record = company.get(resource, recordId)
      return record ? { status: 200, body: record } : { status: 404, body: { error: `no ${resource} record with id ${recordId}` } }
    }
    if (method === 'PATCH') return { status: 200, body: company.update(resource, recordId, await readJsonBody(req)) }
    if (method === 'DELETE') return { status: 200, body: company.remove(resource, recordId) }
    return notFound
  }
  if (method !== 'POST' || parts.length !== 5) return notFound
  if (action === 'restore') return { status: 200, body: company.restore(resource, recordId) }
  if (resource !== 'employees') return notFound
  const body = await readJsonBody(req)
  if (action === 'terminate') {
    const { date } = parse(z.object({ date: z.string().nullable() }), body)
    return { status: 200, body: company.setTermination(recordId, date) }
  }
  if (action === 'rehire') {
    const { startDate } = parse(z.object({ startDate: z.string() }), body)
    return { status: 200, body: company.rehire(recordId, startDate) }
  }
  if (action === 'move') {
    const { groupIds } = parse(z.object({ groupIds: z.array(z.string()).min(1) }), body)
    return { status: 200, body: company.moveToTeam(recordId, groupIds) }
  }
  return notFound
}
