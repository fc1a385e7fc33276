// Errors of the Kombo client. Each says whether retrying can help (`retriable`) and where it
// happened (integration, resource, HTTP status), so the poller can decide between "try again next
// interval" and "stop polling this tenant until someone fixes its credentials".
// None of them ever holds the API key: messages are built from ids and Kombo's own error text,
// and the client redacts the key from any text it copies out of a response.
import type { KomboResource } from '../../schemas/kombo.ts'
import { KomboSyncError } from '../../errors/kombo-sync-error.ts'

export interface KomboErrorContext {
  integrationId: string
  resource: KomboResource
  /** The Learn Amp tenant, when the caller told the client (only used to name it in messages). */
  tenant?: string
  /** HTTP status of the (last) response; null when no response arrived (timeout, network). */
  status: number | null
}

const where = (c: KomboErrorContext): string =>
  `${c.tenant ? `tenant ${c.tenant}, ` : ''}integration ${c.integrationId}, resource ${c.resource}`

export abstract class KomboError extends KomboSyncError {
  abstract override readonly retriable: boolean
  readonly integrationId: string
  readonly resource: KomboResource
  readonly tenant: string | undefined
  readonly status: number | null

  constructor(message: string, context: KomboErrorContext) {
    super(message)
    this.name = new.target.name
    this.integrationId = context.integrationId
    this.resource = context.resource
    this.tenant = context.tenant
    this.status = context.status
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      retriable: this.retriable,
      integrationId: this.integrationId,
      resource: this.resource,
      tenant: this.tenant,
      status: this.status,
    }
  }
}

/** Kombo could not be reached or kept failing (429, 5xx, timeouts, garbled bodies) after all retries. */
export class KomboUnavailableError extends KomboError {
  readonly retriable = true
  readonly attempts: number
  constructor(reason: string, context: KomboErrorContext & { attempts: number }) {
    super(`Kombo unavailable for ${where(context)} after ${context.attempts} attempt(s): ${reason}`, context)
    this.attempts = context.attempts
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), attempts: this.attempts }
  }
}

/** 401/403: the API key is wrong, revoked, or lacks access to this integration. Retrying will not help. */
export class KomboAuthError extends KomboError {
  readonly retriable = false
  constructor(detail: string, context: KomboErrorContext) {
    super(
      `Kombo rejected the credentials (HTTP ${context.status}) for ${where(context)}: ${detail}. ` +
        'Check the Kombo API key and that the integration is connected; polling of this tenant stops until then.',
      context,
    )
  }
}

/** 404: Kombo does not know this integration id (deleted or mistyped in the tenant configuration). */
export class KomboIntegrationNotFoundError extends KomboError {
  readonly retriable = false
  constructor(detail: string, context: KomboErrorContext) {
    super(`Kombo does not know ${where(context)} (HTTP 404): ${detail}. Check the tenant's integration id.`, context)
  }
}

/** Any other 4xx: our request is wrong (bad parameter, unsupported filter). A bug here, not in Kombo. */
export class KomboRequestError extends KomboError {
  readonly retriable = false
  constructor(detail: string, context: KomboErrorContext) {
    super(`Kombo refused the request for ${where(context)} (HTTP ${context.status}): ${detail}`, context)
  }
}

/**
 * Kombo's paging misbehaves: a cursor of an earlier page came again (the pages loop), or a poll ran
 * past its page bound (endless pages). Retrying the same poll at once would loop again; the poller
 * marks the resource failing with this reason and tries again next round, other resources go on.
 */
export class KomboPagingError extends KomboError {
  readonly retriable = false
  constructor(detail: string, context: KomboErrorContext) {
    super(`Kombo's paging for ${where(context)} misbehaves: ${detail}`, context)
  }
}
