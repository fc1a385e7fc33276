// Public API of the producers stage (the Kombo side of the pipeline). The change log has its own
// entry points under ./changelog/.
export { KomboClient, parseRetryAfter } from './kombo/client.ts'
export type { KomboClientOptions, KomboRetryOptions, KomboRetryInfo, ListPageOptions, KomboListPage } from './kombo/client.ts'
export {
  KomboError,
  KomboUnavailableError,
  KomboAuthError,
  KomboIntegrationNotFoundError,
  KomboRequestError,
} from './kombo/errors.ts'
export type { SyncState, SyncStateStore } from './sync-state/port.ts'
export { SqlSyncStateStore } from './sync-state/sql.ts'
export { InMemorySyncStateStore } from './sync-state/memory.ts'
export { pollResource, asEnvelopeRecord, DEFAULT_WATERMARK_OVERLAP_MS, DEFAULT_PAGE_SIZE } from './poll-resource.ts'
export type { PollResourceOptions, PollResourceResult } from './poll-resource.ts'
export { TenantPoller, TenantPollingStoppedError } from './tenant-poller.ts'
export type { TenantPollerOptions, TenantPollerStatus, PollRound, ResourceOutcome, PollerLogger } from './tenant-poller.ts'
