// Kombo webhooks (`data-changed`, `sync-finished`, …): verify the signature over the raw body,
// reject replays, and say which integration to poll. Pure logic, no HTTP: the route in
// api/routes/webhooks.ts only hands the raw bytes and the header in.
//
// The scheme, and where Kombo's docs (as found) were silent and we chose:
// - Kombo signs every delivery with the webhook secret shown in its dashboard: HMAC-SHA256 over the
//   raw request body, in the `X-Kombo-Signature` header. The docs we could reach did not confirm
//   the encoding; we accept the digest as base64url (what we believe Kombo sends) or as hex, each
//   compared in constant time. A `sha256=` prefix is tolerated.
// - The signature covers the body only (no signed timestamp header is documented), so replays are
//   stopped by remembering the webhook `id` of every accepted delivery for `replayWindowMs`, and by
//   rejecting bodies whose own signed time (`timestamp`, `created_at`, `data.sync_ended_at`) is
//   further than `toleranceMs` from now. A replayed body that carries no time and is older than
//   the window is accepted again; that only causes one extra poll, which is harmless.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'

export const KOMBO_SIGNATURE_HEADER = 'x-kombo-signature'

/** The part of Kombo's webhook body we rely on; other fields are allowed and ignored. */
export const KomboWebhookBody = z.looseObject({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(100),
  data: z.looseObject({ integration_id: z.string().min(1).max(200) }),
})
export type KomboWebhookBody = z.infer<typeof KomboWebhookBody>

export interface KomboWebhookEvent {
  webhookId: string
  type: string
  integrationId: string
}

export type WebhookVerdict =
  | { ok: true; event: KomboWebhookEvent }
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
  const data = (body.data ?? {}) as Record<string, unknown>
  for (const v of [body.timestamp, body.created_at, data.sync_ended_at]) {
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
    const parsed = KomboWebhookBody.safeParse(json)
    if (!parsed.success) {
      return { ok: false, status: 400, code: 'invalid_payload', message: `the body is not a Kombo webhook: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}` }
    }
    const nowMs = this.now().getTime()
    const at = bodyTime(parsed.data)
    if (at && Math.abs(nowMs - at.getTime()) > this.toleranceMs) {
      return {
        ok: false,
        status: 400,
        code: 'stale_webhook',
        message: `the webhook's time ${at.toISOString()} is more than ${Math.round(this.toleranceMs / 1000)} s from now; it may be a replay (a fresh one will follow, and polling continues regardless)`,
      }
    }
    this.forgetOld(nowMs)
    if (this.seen.has(parsed.data.id)) {
      return { ok: false, status: 409, code: 'replayed_webhook', message: `webhook ${parsed.data.id} was already accepted` }
    }
    this.seen.set(parsed.data.id, nowMs)
    return { ok: true, event: { webhookId: parsed.data.id, type: parsed.data.type, integrationId: parsed.data.data.integration_id } }
  }

  private forgetOld(nowMs: number): void {
    // Map iteration is insertion order, i.e. oldest first.
    for (const [id, at] of this.seen) {
      if (nowMs - at <= this.replayWindowMs && this.seen.size < this.maxRemembered) break
      this.seen.delete(id)
    }
  }
}
