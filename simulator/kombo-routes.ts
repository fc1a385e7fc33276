// The Kombo-compatible read API: GET /v1/hris/<resource> with Kombo's auth, envelopes and paging.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { komboResourcePath, komboResources, type KomboResource } from '../schemas/kombo.ts'
import type { SimulatedCompany } from './company.ts'
import { gzipSync } from 'node:zlib'
import { errorForStatus, type FaultQueue } from './faults.ts'
import { queryObject, sendKomboError } from './http-io.ts'
import { ListQueryError, parseListQuery, selectPage } from './list-query.ts'

export const BASE_PATH = '/v1'

export interface RequestLogEntry {
  integrationId: string | null
  path: string
  query: Record<string, string>
  status: number
}

export interface KomboRouteContext {
  integration(id: string): SimulatedCompany
  faults: FaultQueue
  requestLog: RequestLogEntry[]
  /** Resolves after `ms`, or never if the simulator closes first. */
  delay(ms: number): Promise<void>
}

const resourceByPath = new Map<string, KomboResource>(komboResources.map((r) => [BASE_PATH + komboResourcePath[r], r]))
let endlessPages = 0

export async function handleKomboRequest(req: IncomingMessage, res: ServerResponse, url: URL, ctx: KomboRouteContext): Promise<void> {
  const header = req.headers['x-integration-id']
  const integrationId = typeof header === 'string' && header.trim() !== '' ? header.trim() : null
  const entry: RequestLogEntry = { integrationId, path: url.pathname, query: queryObject(url), status: 0 }
  ctx.requestLog.push(entry)
  entry.status = await respond(req, res, url, ctx, integrationId, entry.query)
}

async function respond(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: KomboRouteContext,
  integrationId: string | null,
  query: Record<string, string>,
): Promise<number> {
  const resource = resourceByPath.get(url.pathname.replace(/\/$/, ''))
  if (!resource) {
    sendKomboError(res, 404, { code: null, title: 'Not found.', message: `No endpoint ${url.pathname}.` })
    return 404
  }
  if (req.method !== 'GET') {
    sendKomboError(res, 405, { code: null, title: 'Method not allowed.', message: `${req.method} is not supported on ${url.pathname}; this simulator only reads.` })
    return 405
  }
  if (!/^Bearer\s+\S+/.test(req.headers.authorization ?? '')) {
    sendKomboError(res, 401, { code: 'PLATFORM.AUTHENTICATION_INVALID', title: 'The API key is invalid.', message: 'Send `Authorization: Bearer <API key>`.' })
    return 401
  }
  if (integrationId === null) {
    sendKomboError(res, 400, { code: 'PLATFORM.INPUT_INVALID', title: 'The input is invalid.', message: 'The X-Integration-Id header is required.' })
    return 400
  }

  const fault = ctx.faults.take(integrationId, resource)
  if (fault?.kind === 'status') {
    const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {}
    sendKomboError(res, fault.status, errorForStatus(fault.status), headers)
    return fault.status
  }
  if (fault?.kind === 'slow') await ctx.delay(fault.delayMs)
  if (fault?.kind === 'looping-cursor' || fault?.kind === 'endless-pages') {
    const next = fault.kind === 'looping-cursor' ? 'bG9vcGluZw' : `endless-${++endlessPages}`
    const text = JSON.stringify({ status: 'success', data: { next, results: [] } })
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
    res.end(text)
    return 200
  }

  let page: ReturnType<typeof selectPage>
  try {
    page = selectPage(ctx.integration(integrationId).changes(resource), parseListQuery(query))
  } catch (err) {
    if (!(err instanceof ListQueryError)) throw err
    sendKomboError(res, err.status, { code: err.code, title: 'The input is invalid.', message: err.message })
    return err.status
  }

  // A copy of the page's list (not of its records): a fault replaces or drops an entry, never edits one.
  const results: Readonly<Record<string, unknown>>[] = [...page.results]
  if (fault?.kind === 'invalid-record' && results.length > 0) results[0] = { ...results[0], ...fault.patch }
  if (fault?.kind === 'omit-record') results.shift()
  const raw = fault?.kind === 'raw-record' && results.length > 0 ? fault.json : null
  if (raw !== null) results[0] = { __raw__: true }
  let text = JSON.stringify({ status: 'success', data: { next: page.next, results } })
  // Spliced in as text: JSON.stringify itself cannot write a record nested 8,000 deep.
  if (raw !== null) text = text.replace('{"__raw__":true}', () => raw)
  if (fault?.kind === 'oversized' || fault?.kind === 'gzip-bomb') text = text.padEnd(fault.bytes, ' ')
  if (fault?.kind === 'gzip-bomb') {
    const body = gzipSync(text)
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'gzip', 'content-length': body.length })
    res.end(body)
    return 200
  }

  if (fault?.kind === 'not-json') {
    const html = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>'
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) })
    res.end(html)
    return 200
  }
  // A cut-off body with a matching content-length: the client sees a complete response that is not valid JSON.
  const body = fault?.kind === 'truncated' ? text.slice(0, Math.max(1, Math.floor(text.length / 2))) : text
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
  return 200
}
