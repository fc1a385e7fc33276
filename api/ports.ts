// What the read API needs from the rest of the service. Each dependency is a small port so the API
// can be tested without the pipeline (in-memory fakes) and wired to the real adapters in runtime/.
import type { Hold, HoldStatus } from '../schemas/holds.ts'
import type { ViewReader } from '../projections/viewstore/port.ts'
import type { LearnAmpLocation, LearnAmpTeam, LearnAmpUser } from '../schemas/learnamp.ts'
import type { ChangeEntry } from '../schemas/audit.ts'
import type { TimeAxes } from '../projections/audit/bitemporal.ts'
import type { ChangeLogReader } from '../projections/audit/change-log-store.ts'
import type { DeadLetter } from '../producers/changelog/port.ts'
import type { AdminApi } from './admin-ports.ts'
import type { KomboResource } from '../schemas/kombo.ts'
import type { HrRecordReader } from '../projections/viewstore/port.ts'
import { KomboSyncError } from '../errors/kombo-sync-error.ts'

/** One stored event of a user's stream, as the history endpoint returns it. */
export interface UserHistoryEntry {
  revision: string
  position: string
  type: string
  recordedAt: string
  data: Record<string, unknown>
  metadata: Record<string, unknown>
}

/** A document read on the two time axes, with the instants used and where the knowledge starts. */
export interface TemporalRead<T> {
  data: T
  /** HR time asked for; null when only `knownAt` was (the document as served at that instant). */
  asOf: string | null
  /** Recorded time: what kombo-sync knew at this instant (the request's instant when not asked for). */
  knownAt: string
  /** The first snapshot's source `changed_at`: values before it are not known, the earliest ones stand. */
  knownSince: string
  /** When kombo-sync first recorded the entity. */
  firstRecordedAt: string
}

export type PastRead<T> = { found: true; value: TemporalRead<T> } | { found: false; message: string }

export interface UserHistory {
  /** Every event of the user's stream, oldest first, and the readable changes; null when the tenant has no such user. */
  userHistory(tenant: string, externalId: string): Promise<{ events: UserHistoryEntry[]; changes: ChangeEntry[] } | null>
  /** The user on both time axes, rebuilt from the event store; not found when unknown then. */
  userAt(tenant: string, externalId: string, axes: TimeAxes): Promise<PastRead<LearnAmpUser>>
  teamAt(tenant: string, id: string, axes: TimeAxes): Promise<PastRead<LearnAmpTeam>>
  locationAt(tenant: string, id: string, axes: TimeAxes): Promise<PastRead<LearnAmpLocation>>
}

export interface UserCommands {
  /** Throws InviteNotAllowedError or UserNotFoundError (matched by class or by `name`). */
  inviteUser(tenant: string, externalId: string, actor: string): Promise<{ status: 'invited' }>
}

/** Mass-deactivation holds of a tenant, and an operator's decision on one (processors/mass-deactivation/). */
export interface HoldAdmin {
  list(tenant: string, status?: HoldStatus): Promise<Hold[]>
  decide(tenant: string, id: string, action: 'release' | 'discard', actor: string): Promise<{ kind: 'decided'; hold: Hold } | { kind: 'not_found' } | { kind: 'conflict'; message: string }>
}

export interface SyncStatusReader {
  /** Per resource: watermark, last poll, lag, errors — shape owned by the poller. */
  list(tenant: string): Promise<Array<Record<string, unknown>>>
  /** The tenant's initial sync (runtime/progress.ts); without it `/sync` has no `initialSync`. */
  initialSync?(tenant: string): Promise<InitialSyncStatus>
  /** The tenant's open mass-deactivation holds; without it `/sync` has no `holds`. */
  openHolds?(tenant: string): Promise<Hold[]>
}

export interface InitialSyncStatus {
  state: 'not_started' | 'polling' | 'processing' | 'done'
  polled: number
  processed: number
  visible: number
  /** Records processed per second since the initial sync started (until it finished). */
  ratePerSecond: number
  startedAt: string | null
  finishedAt: string | null
}

/**
 * - ok: the token belongs to this tenant
 * - invalid_token: the token belongs to no tenant (401)
 * - forbidden: the token belongs to another tenant (403)
 * - unknown_tenant: no such tenant, but the token is valid elsewhere (403, same body as forbidden,
 *   so a token holder cannot probe which tenants exist)
 */
export type TenantAuthResult = 'ok' | 'invalid_token' | 'forbidden' | 'unknown_tenant'

export interface TenantAuthenticator {
  authenticate(tenant: string, bearerToken: string): TenantAuthResult
}

export interface ReadinessReport {
  ready: boolean
  checks: Record<string, { ok: boolean; detail?: string }>
}

export interface MetricsRenderer {
  contentType: string
  render(): Promise<string>
}

/**
 * A verified Kombo webhook, by kind (shapes: `@kombo-api/sdk` `models/webhooks`). `data-changed`
 * and `sync-finished` are hints to poll; the lifecycle kinds say an integration was created,
 * deleted or changed state. `originId` is `data.end_user.origin_id`: the id we gave Kombo for the
 * customer (our tenant id), null when Kombo has none.
 */
export type KomboWebhookEvent =
  | {
      kind: 'data-changed'
      webhookId: string
      integrationId: string
      /** What to poll: the resources of `data.changed_models`; all of them when a model is unknown or none is named. */
      resources: KomboResource[]
    }
  | { kind: 'sync-finished'; webhookId: string; integrationId: string; originId: string | null; syncState: string | null; syncEndedAt: string | null }
  | { kind: 'integration-created'; webhookId: string; integrationId: string; originId: string | null; tool: string | null; organizationName: string | null }
  | { kind: 'integration-deleted'; webhookId: string; integrationId: string; originId: string | null; deletedAt: string | null }
  | {
      kind: 'integration-state-changed'
      webhookId: string
      integrationId: string
      originId: string | null
      /** ACTIVE, INVALID or INACTIVE (passed on as Kombo sends it). */
      state: string
      setupStatus: string | null
      qaStatus: string | null
    }
export type KomboWebhookKind = KomboWebhookEvent['kind']

export interface KomboWebhookSink {
  /** Resolves when handled; an unknown integration is logged and ignored, not an error. */
  onKomboEvent(event: KomboWebhookEvent): Promise<void>
}

export interface ErasureRequest {
  tenant: string
  employeeId: string
  /** Why (e.g. a ticket number); kept in the audit record, so it must not hold personal data itself. */
  reason: string
  actor: string
}

export interface ErasureReceipt {
  tenant: string
  employeeId: string
  erasedAt: string
  /** true when the employee had already been erased (the call is idempotent). */
  alreadyErased: boolean
}

export interface PersonalDataEraser {
  /** Throws UserNotFoundError when the tenant never had this employee. */
  eraseEmployee(request: ErasureRequest): Promise<ErasureReceipt>
}

/** A tenant's dead letters (records that failed validation or processing) and their re-drive. */
export interface DeadLetterAdmin {
  /** Newest first; `before` pages on from a letter id; `resource` and `reason` (substring) filter. */
  list(tenant: string, options: { includeRedriven: boolean; limit?: number; before?: string; resource?: string; reason?: string }): Promise<DeadLetter[]>
  /** Re-drives the tenant's letter `id` if it is pending; another tenant's id is not found. */
  redrive(tenant: string, id: string): Promise<{ redriven: string[]; failed: Array<{ id: string; reason: string }> }>
}

export interface ApiDeps {
  views: ViewReader
  history: UserHistory
  /** The service's clock (tests move it); `knownAt` defaults to it. Default: the system clock. */
  now?: () => Date
  /** The tenant-wide audit change log; without it `GET /changes` is not served. */
  changes?: ChangeLogReader
  commands: UserCommands
  syncStatus: SyncStatusReader
  tenants: TenantAuthenticator
  readiness: () => Promise<ReadinessReport>
  metrics: MetricsRenderer
  /** Optional: without it the dead-letter routes are not served. */
  deadLetters?: DeadLetterAdmin
  /** Legal entities, absence types, absences (read-only); without it those routes are not served. */
  hrRecords?: HrRecordReader
  /** Kombo webhooks; without it the webhook route answers 404 with how to enable it. */
  webhooks?: KomboWebhookSink
  /** GDPR erasure; without it the erasure route answers 404. */
  erasure?: PersonalDataEraser
  /** Mass-deactivation holds; without it the holds routes are not served. */
  holds?: HoldAdmin
  /** The operator API (/v1/admin); without it (no ADMIN_API_TOKEN) those routes are not served. */
  admin?: AdminApi
}

/** The tenant's invite policy or the user's state forbids a manual invite now. Not retriable as is. */
export class InviteNotAllowedError extends KomboSyncError {
  override name = 'InviteNotAllowedError'
  readonly retriable = false
  constructor(
    readonly tenant: string,
    readonly externalId: string,
    /** Why, in words a user can act on (e.g. "user is deactivated", "user was already invited"). */
    readonly reason: string,
  ) {
    super(`user ${externalId} of tenant ${tenant} cannot be invited: ${reason}`)
  }
}

/** The tenant has no user with this external id. Not retriable. */
export class UserNotFoundError extends KomboSyncError {
  override name = 'UserNotFoundError'
  readonly retriable = false
  constructor(
    readonly tenant: string,
    readonly externalId: string,
  ) {
    super(`tenant ${tenant} has no user ${externalId}`)
  }
}
