// Kombo webhooks: verify the signature over the raw body, reject replays, and parse the body into
// the typed event the webhook port receives (kombo-webhook-events.ts). Pure logic, no HTTP: the
// route in api/routes/webhooks.ts only hands the raw bytes and the header in.
//
// The scheme (../shared/kombo-api.md; shapes from `@kombo-api/sdk` `models/webhooks`):
// - Kombo signs every delivery with the webhook secret shown in its dashboard: HMAC-SHA256 over the
//   raw request body, base64url without padding, in the `X-Kombo-Signature` header. Padded or
//   standard base64 and hex spellings of the same digest are accepted too (and a `sha256=`
//   prefix), each compared in constant time: they carry the same 256 bits, so accepting them
//   weakens nothing and survives a proxy that re-encodes the header.
// - The signature covers the body only and Kombo's bodies carry no delivery time, so replays are
//   stopped by remembering the webhook `id` of every accepted delivery for `replayWindowMs`. A
//   body that does carry its own delivery time (`timestamp` or `created_at`) further than
//   `toleranceMs` from now is rejected as stale. Times *inside* `data` (`sync_ended_at`,
//   `deleted_at`, `updated_at`) say when something happened, not when it was sent: Kombo retries
//   a failed delivery later, so they are not used. A replayed body older than the window is
//   accepted again; that only causes one extra poll, which is harmless.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { KomboWebhookEvent } from '../ports.ts'
import { parseKomboWebhook } from './kombo-webhook-events.ts'

export const KOMBO_SIGNATURE_HEADER = 'x-kombo-signature'

export type WebhookVerdict =
  /** event null: a genuine Kombo webhook of a type kombo-sync does not act on (accepted, ignored). */
  | { ok: true; webhookId: string; type: string; event: KomboWebhookEvent | null }
  | { ok: false; status: 400 | 401 | 409; code: string; message: string }

export interface KomboWebhookVerifierOptions {
  secret: string
  /** How far a body's own time may be from now. Default 5 minutes. */
  toleranceMs?: number
  /** How long accepted webhook ids are remembered. Default 24 hours. */
  replayWindowMs?: number
  /** Bound on remembered ids, so a flood cannot grow memory without limit. Default 100 000. */
  maxRemembered?: number
  now?: () => Date
}

export function komboSignature(secret: string, rawBody: Buffer, encoding: 'base64url' | 'hex' = 'base64url'): string {
  return createHmac('sha256', secret).update(rawBody).digest(encoding)
}

/** Constant-time check of the header against the body's HMAC, in either accepted encoding. */
export function isValidKomboSignature(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  if (!header) return false
  const given = header.trim().replace(/^sha256=/i, '')
  const digest = createHmac('sha256', secret).update(rawBody).digest()
  const candidates: Buffer[] = []
  if (/^[0-9a-fA-F]{64}$/.test(given)) candidates.push(Buffer.from(given, 'hex'))
  if (/^[A-Za-z0-9_-]{43}=?$/.test(given) || /^[A-Za-z0-9+/]{43}=?$/.test(given)) {
    candidates.push(Buffer.from(given.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, ''), 'base64url'))
  }
  let ok = false
  // Every candidate is compared (no early exit), each in constant time.
  for (const c of candidates) if (c.length === digest.length && timingSafeEqual(c, digest)) ok = true
  return ok
}

function bodyTime(body: Record<string, unknown>): Date | null {
  for (const v of [body.timestamp, body.created_at]) {
    if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return new Date(v)
    if (typeof v === 'number' && Number.isFinite(v)) return new Date(v < 1e12 ? v * 1000 : v)
  }
  return null
}

export class KomboWebhookVerifier {
  private readonly seen = new Map<string, number>()
  private readonly toleranceMs: number
  private readonly replayWindowMs: number
  private readonly maxRemembered: number
  private readonly now: () => Date

  constructor(private readonly o: KomboWebhookVerifierOptions) {
    this.toleranceMs = o.toleranceMs ?? 5 * 60_000
    this.replayWindowMs = Math.max(o.replayWindowMs ?? 24 * 60 * 60_000, this.toleranceMs)
    this.maxRemembered = o.maxRemembered ?? 100_000
    this.now = o.now ?? (() => new Date())
  }

  verify(rawBody: Buffer, signatureHeader: string | undefined): WebhookVerdict {
    // The signature first: nothing about an unauthenticated body is trusted or remembered.
    if (!isValidKomboSignature(this.o.secret, rawBody, signatureHeader)) {
      return {
        ok: false,
        status: 401,
        code: 'invalid_signature',
        message: signatureHeader
          ? `the ${KOMBO_SIGNATURE_HEADER} header does not match the body: check that the webhook secret configured here (KOMBO_WEBHOOK_SECRET) is the one Kombo shows for this webhook`
          : `missing ${KOMBO_SIGNATURE_HEADER} header`,
      }
    }
    let json: unknown
    try {
      json = JSON.parse(rawBody.toString('utf8'))
    } catch {
      return { ok: false, status: 400, code: 'invalid_payload', message: 'the body is not JSON' }
    }
    const parsed = parseKomboWebhook(json)
    if (!parsed.ok) return { ok: false, status: 400, code: 'invalid_payload', message: parsed.message }
    const nowMs = this.now().getTime()
    const at = bodyTime(json as Record<string, unknown>)
    if (at && Math.abs(nowMs - at.getTime()) > this.toleranceMs) {
      return {
        ok: false,
        status: 400,
        code: 'stale_webhook',
        message: `the webhook's time ${at.toISOString()} is more than ${Math.round(this.toleranceMs / 1000)} s from now; it may be a replay (a fresh one will follow, and polling continues regardless)`,
      }
    }
    this.forgetOld(nowMs)
    if (this.seen.has(parsed.webhookId)) {
      return { ok: false, status: 409, code: 'replayed_webhook', message: `webhook ${parsed.webhookId} was already accepted` }
    }
    this.seen.set(parsed.webhookId, nowMs)
    return parsed
  }

  private forgetOld(nowMs: number): void {
    // Map iteration is insertion order, i.e. oldest first.
    for (const [id, at] of this.seen) {
      if (nowMs - at <= this.replayWindowMs && this.seen.size < this.maxRemembered) break
      this.seen.delete(id)
    }
  }
}
