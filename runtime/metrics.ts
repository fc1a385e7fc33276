// Prometheus metrics of one process. Label values are tenants, resources and outcomes — never
// tokens, keys or personal data.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const m = {
    registry,
    recordsPolled: new Counter({ name: 'kombo_sync_records_polled_total', help: 'Kombo change records fetched and published', labelNames: ['tenant', 'resource'], registers: [registry] }),
    tenantBacklogWaitSeconds: new Counter({ name: 'kombo_sync_tenant_backlog_wait_seconds_total', help: "Seconds a tenant's poller waited before publishing because the tenant had TENANT_BACKLOG_LIMIT records not yet processed plus events not yet projected", labelNames: ['tenant'], registers: [registry] }),
    pollErrors: new Counter({ name: 'kombo_sync_poll_errors_total', help: 'Failed polls', labelNames: ['tenant', 'resource', 'kind'], registers: [registry] }),
    upstreamRetries: new Counter({ name: 'kombo_sync_upstream_retries_total', help: 'Kombo requests retried (429, 5xx, timeouts, bad bodies)', labelNames: ['reason'], registers: [registry] }),
    pollLagSeconds: new Gauge({ name: 'kombo_sync_poll_lag_seconds', help: 'Seconds since the last successful poll', labelNames: ['tenant', 'resource'], registers: [registry] }),
    tenantFailing: new Gauge({ name: 'kombo_sync_tenant_failing', help: '1 when a tenant stopped syncing (e.g. Kombo answers 401)', labelNames: ['tenant'], registers: [registry] }),
    clockSkewSeconds: new Gauge({ name: 'kombo_sync_clock_skew_seconds', help: "How far (s) the latest changed_at of the last complete poll lay after the poll's start (Kombo's clock ahead)", labelNames: ['tenant', 'resource'], registers: [registry] }),
    resourceFailing: new Gauge({ name: 'kombo_sync_resource_failing', help: '1 while the last poll of a tenant resource failed in a way retrying will not fix (looping cursor, endless pages, 4xx)', labelNames: ['tenant', 'resource'], registers: [registry] }),
    recordsRejected: new Counter({ name: 'kombo_sync_records_rejected_total', help: "Records rejected at the poller's edge (NUL in id, too deep, too big) and dead-lettered", labelNames: ['tenant', 'resource'], registers: [registry] }),
    reconcileDiffered: new Counter({ name: 'kombo_sync_reconcile_differed_total', help: 'Records a full reconcile found differing from what was published, and published', labelNames: ['tenant', 'resource'], registers: [registry] }),
    reconciles: new Counter({ name: 'kombo_sync_reconciles_total', help: 'Full reconciles (full listings) completed', labelNames: ['tenant', 'resource'], registers: [registry] }),
    recordsProcessed: new Counter({ name: 'kombo_sync_records_processed_total', help: 'Change records processed', labelNames: ['outcome'], registers: [registry] }),
    eventsAppended: new Counter({ name: 'kombo_sync_events_appended_total', help: 'Domain events appended', registers: [registry] }),
    appendSeconds: new Histogram({ name: 'kombo_sync_append_seconds', help: 'Event store append latency', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] }),
    deadLetters: new Counter({ name: 'kombo_sync_dead_letters_total', help: 'Records sent to the dead-letter store', registers: [registry] }),
    projectedEvents: new Counter({ name: 'kombo_sync_projected_events_total', help: 'Events applied to the views', registers: [registry] }),
    projectionPosition: new Gauge({ name: 'kombo_sync_projection_position', help: 'Last event-store position applied to the views', registers: [registry] }),
    projectionSkippedEvents: new Counter({ name: 'kombo_sync_projection_skipped_events_total', help: 'Events the projector skipped because they kept failing alone (kept in projection_dead_letters)', registers: [registry] }),
    processorPoisonedRecords: new Counter({ name: 'kombo_sync_processor_poisoned_records_total', help: 'Records dead-lettered because they kept failing at the processor', registers: [registry] }),
    clockEvents: new Counter({ name: 'kombo_sync_clock_events_total', help: 'Lifecycle events emitted by the clock', registers: [registry] }),
    clockGaveUp: new Counter({ name: 'kombo_sync_clock_gave_up_total', help: 'Employees the clock gave up on in a tick (their stream kept changing); retried next tick', labelNames: ['tenant'], registers: [registry] }),
    initialSyncRecords: new Gauge({ name: 'kombo_sync_initial_sync_records', help: "A tenant's initial sync: records polled, processed, and users visible in the views", labelNames: ['tenant', 'stage'], registers: [registry] }),
    initialSyncRate: new Gauge({ name: 'kombo_sync_initial_sync_records_per_second', help: "A tenant's initial sync: records processed per second since it started", labelNames: ['tenant'], registers: [registry] }),
    holdsOpen: new Gauge({ name: 'kombo_sync_holds_open', help: 'Mass-deactivation holds waiting for an operator (release or discard)', labelNames: ['tenant'], registers: [registry] }),
    initialSyncDone: new Gauge({ name: 'kombo_sync_initial_sync_done', help: "1 once a tenant's initial sync is done (polled, processed and visible)", labelNames: ['tenant'], registers: [registry] }),
    relinkMatched: new Gauge({ name: 'kombo_sync_relink_matched', help: "A tenant's last re-link to a reconnected integration: records matched to existing entities, by key", labelNames: ['tenant', 'resource', 'matched_by'], registers: [registry] }),
    relinkUnmatched: new Gauge({ name: 'kombo_sync_relink_unmatched', help: "A tenant's last re-link: records of the new integration that matched nobody (side=new) and existing entities nothing matched (side=existing)", labelNames: ['tenant', 'resource', 'side'], registers: [registry] }),
    userFeedEvents: new Counter({ name: 'kombo_sync_user_feed_events_total', help: 'User events published to the downstream feed (learnamp.user-events.v1)', registers: [registry] }),
    userFeedPosition: new Gauge({ name: 'kombo_sync_user_feed_position', help: 'Last event-store position whose user events Kafka acknowledged (the user-feed checkpoint)', registers: [registry] }),
  }
  return m
}
export type Metrics = ReturnType<typeof createMetrics>
