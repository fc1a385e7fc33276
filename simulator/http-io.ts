// Small node:http helpers shared by the Kombo and control routes.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { KomboSyncError } from '../errors/kombo-sync-error.ts'

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

/** Kombo's error envelope (docs.kombo.dev/guides/errors): code, title, message and log_url. */
export function sendKomboError(
  res: ServerResponse,
  status: number,
  error: { code: string | null; title: string | null; message: string },
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { status: 'error', error: { ...error, log_url: null } }, headers)
}

/** Thrown for a control request whose body is not usable; the caller must fix the request. */
export class ControlRequestError extends KomboSyncError {
  readonly retriable = false
  constructor(message: string) {
    super(message)
    this.name = 'ControlRequestError'
  }
}

export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (text === '') return {}
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object')
    return parsed as Record<string, unknown>
  } catch {
    throw new ControlRequestError('request body must be a JSON object')
  }
}

export function queryObject(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams.entries())
}
