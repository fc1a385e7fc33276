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
        summary: 'Kombo webhook: data-changed polls the changed resources now, sync-finished polls, integration lifecycle webhooks are handed to the tenants',
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
      const { event, type, webhookId } = verdict
      if (event === null) {
        // Genuine, but nothing kombo-sync acts on (e.g. an ATS or assessment webhook): a 2xx, so Kombo does not retry it.
        request.log.info({ type, webhookId }, 'Kombo webhook of a type kombo-sync does not act on; ignored')
        return reply.code(202).send({ status: 'ignored' })
      }
      // Handled in the background: Kombo wants a quick answer, and the poll is the source of truth.
      sink.onKomboEvent(event).catch((err: Error) => request.log.error({ err, kind: event.kind, integrationId: event.integrationId }, 'handling a Kombo webhook failed'))
      return reply.code(202).send({ status: 'accepted' })
    },
  )
}
