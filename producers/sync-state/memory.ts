// SyncStateStore in process memory: for tests and one-shot runs that need no durable progress.
import type { KomboResource } from '../../schemas/kombo.ts'
import type { InitialSyncRecord, PollSucceededDetails, SyncState, SyncStateStore } from './port.ts'

export class InMemorySyncStateStore implements SyncStateStore {
  private readonly states = new Map<string, SyncState>()
  private readonly initial = new Map<string, Omit<InitialSyncRecord, 'polled'> & { polled: number | null }>()

  constructor(private readonly now: () => Date = () => new Date()) {}

  async get(tenant: string, resource: KomboResource): Promise<SyncState | null> {
    const s = this.states.get(`${tenant}\u0000${resource}`)
    return s ? structuredClone(s) : null
  }

  async list(tenant: string): Promise<SyncState[]> {
    return [...this.states.values()]
      .filter((s) => s.tenant === tenant)
      .sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0))
      .map((s) => structuredClone(s))
  }

  async recordPollStarted(tenant: string, resource: KomboResource): Promise<void> {
    if (!this.initial.has(tenant) && !(await this.list(tenant)).length) {
      this.initial.set(tenant, { tenant, startedAt: this.now().toISOString(), pollingFinishedAt: null, polled: null, processed: 0, finishedAt: null })
    }
    this.state(tenant, resource).lastPollStartedAt = this.now().toISOString()
  }

  async recordPageHandedOn(tenant: string, resource: KomboResource, count: number): Promise<void> {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`record count must be a non-negative integer, got ${count}`)
    this.state(tenant, resource).recordsSeen += count
  }

  async recordPollSucceeded(tenant: string, resource: KomboResource, newWatermark: string | null, details: PollSucceededDetails = {}): Promise<void> {
    if (newWatermark !== null && Number.isNaN(Date.parse(newWatermark))) {
      throw new RangeError(`watermark must be an ISO date-time, got ${JSON.stringify(newWatermark)}`)
    }
    const s = this.state(tenant, resource)
    const at = this.now().toISOString()
    if (newWatermark !== null && (s.watermark === null || Date.parse(newWatermark) > Date.parse(s.watermark))) {
      s.watermark = newWatermark
    }
    s.lastPollFinishedAt = at
    s.lastSuccessAt = at
    s.failing = false
    s.clockSkewSeconds = details.clockSkewSeconds ?? 0
    if (details.fullListingStartedAt) s.lastFullReconcileAt = new Date(details.fullListingStartedAt).toISOString()
  }

  async forgetWatermarks(tenant: string): Promise<void> {
    for (const s of (await this.list(tenant))) {
      const state = this.state(tenant, s.resource)
      state.watermark = null
      state.lastFullReconcileAt = null
    }
  }

  async recordPollFailed(tenant: string, resource: KomboResource, error: Error | string, failing: boolean): Promise<void> {
    const s = this.state(tenant, resource)
    const at = this.now().toISOString()
    s.lastPollFinishedAt = at
    s.lastError = { message: typeof error === 'string' ? error : error.message, at }
    s.failing = failing
  }

  async initialSync(tenant: string): Promise<InitialSyncRecord | null> {
    const i = this.initial.get(tenant)
    if (!i) return null
    return { ...i, polled: i.polled ?? (await this.list(tenant)).reduce((n, s) => n + s.recordsSeen, 0) }
  }

  async recordInitialPollingFinished(tenant: string): Promise<void> {
    const i = this.initial.get(tenant)
    if (!i || i.pollingFinishedAt) return
    const at = this.now().toISOString()
    i.polled = (await this.list(tenant)).reduce((n, s) => n + s.recordsSeen, 0)
    i.pollingFinishedAt = at
    if (i.processed >= i.polled) i.finishedAt = at
  }

  async recordProcessed(counts: ReadonlyMap<string, number>): Promise<void> {
    for (const [tenant, n] of counts) {
      const i = this.initial.get(tenant)
      if (!i || i.finishedAt || n <= 0) continue
      i.processed += n
      if (i.polled !== null && i.processed >= i.polled) i.finishedAt = this.now().toISOString()
    }
  }

  private state(tenant: string, resource: KomboResource): SyncState {
    const key = `${tenant}\u0000${resource}`
    let s = this.states.get(key)
    if (!s) {
      s = {
        tenant,
        resource,
        watermark: null,
        lastPollStartedAt: null,
        lastPollFinishedAt: null,
        lastSuccessAt: null,
        recordsSeen: 0,
        lastError: null,
        failing: false,
        clockSkewSeconds: 0,
        lastFullReconcileAt: null,
      }
      this.states.set(key, s)
    }
    return s
  }
}
