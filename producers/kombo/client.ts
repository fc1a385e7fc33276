// HTTP client for Kombo's unified HRIS list endpoints: one page per call, with the retry policy
// that keeps a poll alive through rate limits, brief outages and garbled responses.
//
// Why retries live here and not in the poller: a page that fails after several good pages would
// otherwise throw away the whole poll; retrying the one request keeps progress cheap. After the
// retry budget is spent the error is `KomboUnavailableError` and the poller tries again next interval.
import { KomboPage, KomboErrorBody, komboResourcePath, type KomboResource } from '../../schemas/kombo.ts'
import {
  KomboAuthError,
  KomboIntegrationNotFoundError,
  KomboRequestError,
  KomboUnavailableError,
  type KomboErrorContext,
} from './errors.ts'

export interface KomboRetryOptions {
  /** Total attempts per page, the first included. */
  maxAttempts?: number
  /** Backoff ceiling of the first retry; doubles per attempt (full jitter picks in [0, ceiling)). */
  baseDelayMs?: number
  maxDelayMs?: number
  /** A server's Retry-After is honoured up to this many ms (a misbehaving header must not park a poller for hours). */
  maxRetryAfterMs?: number
}

export interface KomboRetryInfo {
  integrationId: string
  resource: KomboResource
  tenant?: string
  /** The attempt that just failed (1-based). */
  attempt: number
  delayMs: number
  reason: string
  status: number | null
}

export interface KomboClientOptions {
  /** Base URL including the version, e.g. `https://api.kombo.dev/v1`. */
  baseUrl: string
  apiKey: string
  timeoutMs?: number
  retry?: KomboRetryOptions
  /** Injected in tests so retries do not wait. */
  sleep?: (ms: number) => Promise<void>
  /** Injected in tests so jitter is predictable; returns a float in [0, 1). */
  random?: () => number
  /** Called before each retry wait (metrics, logs). Never receives the API key. */
  onRetry?: (info: KomboRetryInfo) => void
  /**
   * Largest response accepted, in bytes, both as sent (Content-Length) and decompressed (counted
   * while streaming). Past it the request is aborted and counts as a failed attempt (retried, then
   * KomboUnavailableError), so a hostile or broken upstream cannot exhaust memory. Default 32 MiB.
   */
  maxResponseBytes?: number
}

export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024

export interface ListPageOptions {
  /** ISO date-time: only records whose `changed_at` is after it. */
  updatedAfter?: string
  cursor?: string
  pageSize?: number
  includeDeleted?: boolean
  /** Only used to name the tenant in error messages and retry infos. */
  tenant?: string
  /**
   * Cuts a retry wait short (graceful shutdown): the call then fails with KomboUnavailableError at
   * once. A request already in flight is not aborted; it ends by itself or by `timeoutMs`.
   */
  signal?: AbortSignal
}

export interface KomboListPage {
  results: unknown[]
  next: string | null
}

/** A failed attempt that may succeed when repeated. */
class RetriableFailure {
  constructor(
    readonly reason: string,
    readonly status: number | null,
    readonly retryAfterMs: number | null = null,
  ) {}
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export class KomboClient {
  readonly #apiKey: string
  private readonly baseUrl: string
  private readonly timeoutMs: number
  private readonly maxAttempts: number
  private readonly baseDelayMs: number
  private readonly maxDelayMs: number
  private readonly maxRetryAfterMs: number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly random: () => number
  private readonly onRetry: ((info: KomboRetryInfo) => void) | undefined
  private readonly maxResponseBytes: number

  constructor(options: KomboClientOptions) {
    if (!options.apiKey) throw new Error('KomboClient needs an API key')
    this.#apiKey = options.apiKey
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.maxAttempts = Math.max(1, options.retry?.maxAttempts ?? 6)
    this.baseDelayMs = options.retry?.baseDelayMs ?? 500
    this.maxDelayMs = options.retry?.maxDelayMs ?? 30_000
    this.maxRetryAfterMs = options.retry?.maxRetryAfterMs ?? 60_000
    this.sleep = options.sleep ?? defaultSleep
    this.random = options.random ?? Math.random
    this.onRetry = options.onRetry
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
  }

  /** Fetches one page of `resource` for one integration, retrying transient failures. */
  async listPage(integrationId: string, resource: KomboResource, options: ListPageOptions = {}): Promise<KomboListPage> {
    const url = this.pageUrl(resource, options)
    const context = { integrationId, resource, tenant: options.tenant }
    let last: RetriableFailure | undefined
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const outcome = await this.attempt(url, context)
      if (!(outcome instanceof RetriableFailure)) return outcome
      last = outcome
      if (attempt === this.maxAttempts) break
      const delayMs = this.retryDelay(attempt, outcome.retryAfterMs)
      this.onRetry?.({ ...context, attempt, delayMs, reason: outcome.reason, status: outcome.status })
      if (!(await this.wait(delayMs, options.signal))) {
        throw new KomboUnavailableError(`${outcome.reason}; stopped while waiting to retry`, { ...context, status: outcome.status, attempts: attempt })
      }
    }
    throw new KomboUnavailableError(last!.reason, { ...context, status: last!.status, attempts: this.maxAttempts })
  }

  /** Sleeps unless `signal` aborts first; false when aborted. */
  private async wait(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (!signal) {
      await this.sleep(ms)
      return true
    }
    if (signal.aborted) return false
    let onAbort!: () => void
    const aborted = new Promise<false>((resolve) => {
      onAbort = () => resolve(false)
      signal.addEventListener('abort', onAbort, { once: true })
    })
    try {
      return await Promise.race([this.sleep(ms).then(() => true as const), aborted])
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  private pageUrl(resource: KomboResource, o: ListPageOptions): URL {
    const url = new URL(this.baseUrl + komboResourcePath[resource])
    // Filters are repeated with the cursor: harmless when the cursor already encodes them.
    if (o.updatedAfter) url.searchParams.set('updated_after', o.updatedAfter)
    if (o.includeDeleted !== undefined) url.searchParams.set('include_deleted', String(o.includeDeleted))
    if (o.pageSize !== undefined) url.searchParams.set('page_size', String(o.pageSize))
    if (o.cursor) url.searchParams.set('cursor', o.cursor)
    return url
  }

  /** One HTTP request: a page, a retriable failure, or a thrown non-retriable error. */
  private async attempt(
    url: URL,
    context: Omit<KomboErrorContext, 'status'>,
  ): Promise<KomboListPage | RetriableFailure> {
    let response: Response
    let text: string
    // One controller for both the timeout and an oversized body. Not AbortSignal.any([AbortSignal.timeout(…), …]):
    // on Node 20 the timeout signal inside `any` can be garbage-collected before it fires, and the request then
    // waits for as long as the server likes (nodejs/node#57736; seen in CI: a 1.5 s answer beat a 1 s timeout).
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(new DOMException(`no response within ${this.timeoutMs} ms`, 'TimeoutError')), this.timeoutMs)
    try {
      response = await fetch(url, {
        headers: {
          Authorization: `Bearer ${this.#apiKey}`,
          'X-Integration-Id': context.integrationId,
          Accept: 'application/json',
        },
        signal: abort.signal,
      })
      // The body is read under the same timeout: a server that stalls mid-body is as bad as one that never answers.
      const read = await readBounded(response, this.maxResponseBytes)
      if ('tooLarge' in read) {
        abort.abort()
        return new RetriableFailure(`response larger than ${this.maxResponseBytes} bytes (${read.tooLarge}); aborted`, response.status)
      }
      text = read.text
    } catch (err) {
      return new RetriableFailure(this.describeTransportError(err), null)
    } finally {
      clearTimeout(timer)
    }

    const status = response.status
    if (response.ok) {
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        return new RetriableFailure(`HTTP ${status} with a body that is not JSON (${text.length} bytes)`, status)
      }
      const page = KomboPage.safeParse(body)
      if (!page.success) return new RetriableFailure(`HTTP ${status} with an unexpected envelope`, status)
      return { results: page.data.data.results, next: page.data.data.next }
    }

    const detail = this.errorDetail(text)
    const ctx = { ...context, status }
    if (status === 401 || status === 403) throw new KomboAuthError(detail, ctx)
    if (status === 404) throw new KomboIntegrationNotFoundError(detail, ctx)
    if (status === 429) {
      return new RetriableFailure(`rate limited (HTTP 429): ${detail}`, status, parseRetryAfter(response.headers.get('retry-after')))
    }
    if (status === 408 || status >= 500) {
      return new RetriableFailure(`HTTP ${status}: ${detail}`, status, parseRetryAfter(response.headers.get('retry-after')))
    }
    throw new KomboRequestError(detail, ctx)
  }

  /** Capped exponential backoff with full jitter, unless the server said how long to wait. */
  private retryDelay(failedAttempt: number, retryAfterMs: number | null): number {
    if (retryAfterMs !== null) return Math.min(Math.max(0, retryAfterMs), this.maxRetryAfterMs)
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (failedAttempt - 1))
    return Math.floor(this.random() * ceiling)
  }

  private describeTransportError(err: unknown): string {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } }
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no complete response within ${this.timeoutMs} ms`
    const cause = e?.cause?.code ?? e?.cause?.message
    return this.redact(`network error: ${e?.message ?? String(err)}${cause ? ` (${cause})` : ''}`)
  }

  /** Kombo's own error text (title/message), short and with the key redacted, for our messages. */
  private errorDetail(text: string): string {
    let detail = 'no error details'
    try {
      const body = KomboErrorBody.safeParse(JSON.parse(text))
      if (body.success) {
        const e = body.data.error
        detail = [e.code, e.title, e.message].filter((s) => typeof s === 'string' && s.length > 0).join(': ') || detail
      }
    } catch {
      if (text.trim()) detail = text.trim()
    }
    return this.redact(detail.slice(0, 300))
  }

  private redact(text: string): string {
    return text.split(this.#apiKey).join('[redacted]')
  }
}

/**
 * The body as text, unless it is larger than `limit`: checked against Content-Length (the bytes on
 * the wire, compressed or not) before reading, and counted while streaming (fetch decompresses, so
 * this bounds the inflated size: a small gzip body inflating to gigabytes stops at `limit`).
 */
async function readBounded(response: Response, limit: number): Promise<{ text: string } | { tooLarge: string }> {
  const declared = Number(response.headers.get('content-length') ?? NaN)
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => {})
    return { tooLarge: `Content-Length ${declared}` }
  }
  if (!response.body) return { text: '' }
  const chunks: Uint8Array[] = []
  let received = 0
  const reader = response.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    received += value.byteLength
    if (received > limit) {
      await reader.cancel().catch(() => {})
      const encoding = response.headers.get('content-encoding')
      return { tooLarge: encoding ? `more than that after ${encoding} decoding` : 'more than that streamed' }
    }
    chunks.push(value)
  }
  return { text: Buffer.concat(chunks).toString('utf8') }
}

/** `Retry-After` is either delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return null
  return Math.max(0, at - now)
}
