// POST /v1/webhooks/kombo: Kombo's webhooks, authenticated by their signature (no bearer token).
// The raw body is needed for the signature, so this plugin parses JSON as a Buffer in its own scope.
import type { FastifyInstance } from 'fastify'
import { ApiError } from '../errors.ts'
import type { KomboWebhookSink } from '../ports.ts'
import { KOMBO_SIGNATURE_HEADER, KomboWebhookVerifier } from '../webhooks/kombo-webhook.ts'

export interface KomboWebhookRouteOptions {
  /** null: webhooks are not enabled (the route says how to enable them). */
  secret: string | null
  toleranceMs?: number
  now?: () => Date
}

export async function komboWebhookRoutes(app: FastifyInstance, sink: KomboWebhookSink | undefined, options: KomboWebhookRouteOptions): Promise<void> {
  const verifier = options.secret ? new KomboWebhookVerifier({ secret: options.secret, toleranceMs: options.toleranceMs, now: options.now }) : null
  // Every content type arrives as the exact bytes (this scope only; the tenant routes keep JSON).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))

  app.post(
    '/v1/webhooks/kombo',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Kombo webhook (data-changed, sync-finished): triggers an immediate poll of that integration',
        description: `Authenticated by the ${KOMBO_SIGNATURE_HEADER} header (HMAC-SHA256 of the raw body with the webhook secret), not by a token.`,
      },
    },
    async (request, reply) => {
      if (!verifier || !sink) {
        throw new ApiError(404, 'webhooks_disabled', 'Kombo webhooks are not enabled here: set KOMBO_WEBHOOK_SECRET to the secret Kombo shows for this webhook')
      }
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
      const header = request.headers[KOMBO_SIGNATURE_HEADER]
      const verdict = verifier.verify(raw, Array.isArray(header) ? header[0] : header)
      if (!verdict.ok) {
        request.log.warn({ code: verdict.code }, 'Kombo webhook rejected')
        throw new ApiError(verdict.status, verdict.code, verdict.message)
      }
      const { webhookId, type, integrationId } = verdict.event
      // The poll runs in the background: Kombo wants a quick answer, and the poll is the source of truth.
      sink.onKomboEvent({ webhookId, type, integrationId }).catch((err: Error) => request.log.error({ err, integrationId }, 'poll after Kombo webhook failed'))
      return reply.code(202).send({ status: 'accepted' })
    },
  )
}
