// A resource poll's outcome as metrics: clock skew seen, failing resources (with the error kind),
// and what a full reconcile found differing.
import { KomboError } from '../producers/kombo/errors.ts'
import type { ResourceOutcome } from '../producers/tenant-poller.ts'
import type { Metrics } from './metrics.ts'

export function recordPollOutcome(metrics: Metrics, tenant: string, outcome: ResourceOutcome): void {
  const labels = { tenant, resource: outcome.resource }
  if (!outcome.ok) {
    metrics.pollErrors.inc({ ...labels, kind: outcome.error.name })
    // Same rule as the sync state's `failing`: retrying will not fix it by itself.
    metrics.resourceFailing.set(labels, outcome.error instanceof KomboError && !outcome.error.retriable ? 1 : 0)
    return
  }
  metrics.resourceFailing.set(labels, 0)
  if (!outcome.completed) return
  metrics.clockSkewSeconds.set(labels, outcome.clockSkewSeconds)
  if (outcome.full) {
    metrics.reconciles.inc(labels)
    metrics.reconcileDiffered.inc(labels, outcome.records)
  }
}
