// The processor: folds change records into their entities' streams. For each stream it starts from
// the folded state (cached, or read and folded) and decides what every record of the batch for that
// stream changes (one after another, in order, in memory); then all the batch's streams are
// appended in ONE `appendToStreams` call, each with the expected revision its state was folded up to
// (one transaction on the SQL store). A concurrency conflict (another writer, or a stale cache entry)
// drops that stream's cached state, reloads and decides again: never a wrong append. Streams are
// loaded and decided with bounded concurrency; the records of one stream keep their order. A record
// that cannot be understood goes to the dead-letter store with the reason. Nothing is dropped
// silently.
import { contentHashOfChange } from '../producers/changelog/dead-letter-content.ts'
import type { ConsumedChange, DeadLetterStore } from '../producers/changelog/port.ts'
import { parseChangeEnvelope, type ChangeEnvelope } from '../schemas/envelope.ts'
import { streamCategories, streamName } from '../schemas/streams.ts'
import type { TenantSettings } from '../schemas/tenant.ts'
import { WrongExpectedRevisionError, type EventStore, type EventToAppend } from './eventstore/port.ts'
import { foldEvents, type ObserveRecord } from './domain/decider.ts'
import { streamKindOfResource } from './domain/stream-kinds.ts'
import { stateBytesFromJson, type CachedStreamState, type StreamStateCache } from './stream-state-cache.ts'
import { forEachBounded } from './for-each-bounded.ts'
import { asStored } from './as-stored.ts'

export interface ProcessorDeps {
  store: EventStore
  deadLetters: DeadLetterStore
  /** The tenant's settings (invite policy, time zone …), or undefined for a tenant this deployment does not know. */
  tenantSettingsOf: (tenant: string) => TenantSettings | undefined
  now: () => Date
  maxConflictRetries?: number
  /**
   * Folded stream states kept between batches (create one per processor and pass it to every
   * call). Without it every stream of a batch is read and folded once per batch.
   */
  cache?: StreamStateCache
  /** How many streams of one batch are decided and appended at the same time (default 8). */
  concurrency?: number
  /**
   * The mass-deactivation guard runs (the clock applies or holds deferred deactivations,
   * processors/mass-deactivation/): an active user's deactivation is deferred for it, for tenants
   * whose guard is on. Without it deactivations are appended at once, as before the guard.
   */
  massDeactivationGuard?: boolean
  onAppended?: (info: { stream: string; events: number; ms: number }) => void
  onDeadLetter?: (info: { reason: string; key: string }) => void
}

export const DEFAULT_PROCESSOR_CONCURRENCY = 8

export type ProcessOutcome = { kind: 'appended'; stream: string; events: number } | { kind: 'unchanged' } | { kind: 'dead-lettered'; reason: string }

/** One understood record of a batch, with its place in the batch. */
interface Pending {
  index: number
  change: ConsumedChange
  envelope: ChangeEnvelope
  settings: TenantSettings
}

/**
 * Processes a batch: one outcome per input record, in input order. Resolves only when every record
 * was appended (or found unchanged) or dead-lettered; rejects when any stream failed, after the
 * other streams in flight have settled (the caller retries the whole batch, which is idempotent).
 */
export async function processChanges(batch: ConsumedChange[], deps: ProcessorDeps): Promise<ProcessOutcome[]> {
  const outcomes: ProcessOutcome[] = new Array(batch.length)
  // Records grouped by stream, each group in batch order (a Map keeps first-seen order).
  const groups = new Map<string, Pending[]>()
  for (let index = 0; index < batch.length; index++) {
    const change = batch[index]
    const understood = understand(change, deps)
    if ('reason' in understood) {
      outcomes[index] = await deadLetter(change, understood.reason, deps)
      continue
    }
    const { envelope, settings } = understood
    const stream = streamName(streamCategories[envelope.resource], envelope.tenant, envelope.record.id)
    let group = groups.get(stream)
    if (!group) groups.set(stream, (group = []))
    group.push({ index, change, envelope, settings })
  }
  const maxRetries = deps.maxConflictRetries ?? 10
  let pending = [...groups]
  for (let attempt = 0; pending.length > 0; attempt++) {
    const bases = await loadBases(pending, deps)
    const plans: StreamPlan[] = new Array(pending.length)
    // Deciding is pure and in memory; only the confirmation of a cached "unchanged" reads.
    await forEachBounded(pending.map((entry, i) => ({ entry, i })), deps.concurrency ?? DEFAULT_PROCESSOR_CONCURRENCY, async ({ entry: [stream, group], i }) => {
      plans[i] = await planStream(stream, group, bases[i], deps)
    })
    const retry: Array<[string, Pending[]]> = []
    let conflict: WrongExpectedRevisionError | null = null
    const settled = (plan: StreamPlan) => plan.group.forEach((p, i) => (outcomes[p.index] = plan.outcomes[i]))
    for (const plan of plans) {
      if (plan.stale) retry.push([plan.stream, plan.group])
      else if (plan.events.length === 0) settled(plan)
    }
    const appending = plans.filter((plan) => !plan.stale && plan.events.length > 0)
    if (appending.length > 0) {
      const started = performance.now()
      let results: Awaited<ReturnType<EventStore['appendToStreams']>>
      try {
        results = await deps.store.appendToStreams(appending.map((plan) => ({ streamName: plan.stream, events: plan.events, expectedRevision: plan.base.revision })))
      } catch (err) {
        for (const plan of appending) deps.cache?.delete(plan.stream)
        throw err
      }
      const ms = performance.now() - started
      results.forEach((result, i) => {
        const plan = appending[i]
        if (result instanceof WrongExpectedRevisionError) {
          // Another writer (or a stale cache entry): reload the stream and decide again.
          deps.cache?.delete(plan.stream)
          conflict = result
          retry.push([plan.stream, plan.group])
          return
        }
        deps.cache?.set(plan.stream, { state: plan.state, revision: result.nextExpectedRevision }, stateBytesOf(plan.group))
        deps.onAppended?.({ stream: plan.stream, events: plan.events.length, ms })
        settled(plan)
      })
    }
    if (retry.length > 0 && attempt >= maxRetries) throw conflict ?? new Error(`streams ${retry.map(([s]) => s).join(', ')} kept changing while being processed`)
    pending = retry
  }
  return outcomes
}

function understand(change: ConsumedChange, deps: ProcessorDeps): { envelope: ChangeEnvelope; settings: TenantSettings } | { reason: string } {
  if (change.decodeError) return { reason: `undecodable: ${change.decodeError}` }
  const parsed = parseChangeEnvelope(change.value)
  if (!parsed.ok) return { reason: parsed.reason }
  const settings = deps.tenantSettingsOf(parsed.envelope.tenant)
  if (!settings) return { reason: `unknown tenant "${parsed.envelope.tenant}": add it to the tenants file, then re-drive` }
  return { envelope: parsed.envelope, settings }
}

async function deadLetter(change: ConsumedChange, reason: string, deps: ProcessorDeps): Promise<ProcessOutcome> {
  await deps.deadLetters.put({
    reason,
    origin: { resource: change.resource, partition: change.partition, offset: change.offset },
    key: change.key,
    raw: change.raw,
    // The record, not the envelope: the same bad record re-read by every poll is one letter.
    contentHash: contentHashOfChange(change.value, change.raw),
  })
  deps.onDeadLetter?.({ reason, key: change.key })
  return { kind: 'dead-lettered', reason }
}

/** A stream's folded state, whichever its kind (the kind's decider knows its type). */
type State = unknown

/** What one stream's records add, decided on its folded state; not yet appended. */
interface StreamPlan {
  stream: string
  group: Pending[]
  /** The state and revision the decisions were taken on (the append's expected revision). */
  base: CachedStreamState<State>
  /** The state after the events. */
  state: State
  events: EventToAppend[]
  outcomes: ProcessOutcome[]
  /** The cached state turned out not to be the stream's current one: plan again from a reload. */
  stale: boolean
}

/** A stream's state to decide on, and whether it came from the cache (then it may be stale). */
interface Base {
  base: CachedStreamState<State>
  cached: boolean
}

/** Streams per `readStreams` call: bounds one query's size (and one answer's memory). */
export const STREAMS_PER_READ = 500

/**
 * Every pending stream's state: from the cache, else read — all the missing streams of the batch
 * in one `readStreams` call per STREAMS_PER_READ (one query on the SQL store, not one per stream)
 * — and folded.
 */
async function loadBases(pending: Array<[string, Pending[]]>, deps: ProcessorDeps): Promise<Base[]> {
  const bases: Base[] = new Array(pending.length)
  const missing: number[] = []
  pending.forEach(([stream], i) => {
    const cached = deps.cache?.get(stream) as CachedStreamState<State> | undefined
    if (cached) bases[i] = { base: cached, cached: true }
    else missing.push(i)
  })
  for (let start = 0; start < missing.length; start += STREAMS_PER_READ) {
    const chunk = missing.slice(start, start + STREAMS_PER_READ)
    const histories = await deps.store.readStreams(chunk.map((i) => pending[i][0]))
    chunk.forEach((i, k) => {
      const history = histories[k]
      const kind = streamKindOfResource(pending[i][1][0].envelope.resource)
      const revision = history.length === 0 ? 'no_stream' : history[history.length - 1].revision
      bases[i] = { base: { state: foldEvents(kind, history), revision }, cached: false }
    })
  }
  return bases
}

/** Decides every record of one stream in order, on its cached or freshly folded state. */
async function planStream(stream: string, group: Pending[], { base, cached }: Base, deps: ProcessorDeps): Promise<StreamPlan> {
  const kind = streamKindOfResource(group[0].envelope.resource)
  const cache = deps.cache
  let state = base.state
  const events: EventToAppend[] = []
  const outcomes: ProcessOutcome[] = []
  for (const { change, envelope, settings } of group) {
    const now = deps.now()
    // parseChangeEnvelope validated the record against its resource's schema (id and changed_at included).
    const record = envelope.record as ObserveRecord['record']
    const context = { tenant: envelope.tenant, now, invitePolicy: settings.invitePolicy, timeZone: settings.timeZone, deferDeactivations: deps.massDeactivationGuard === true && settings.massDeactivation.enabled }
    const decided = kind.decide({ type: 'ObserveRecord', record, context }, state)
    if (decided.length === 0) {
      outcomes.push({ kind: 'unchanged' })
      continue
    }
    // Evolve with the events as a reload would see them (as-stored.ts: the same object when it is
    // plain JSON), so the next record of this stream (and the cache) decides on exactly the state
    // a reload would fold.
    for (const e of decided) state = kind.evolve(state, { type: e.type, data: asStored(e.data) })
    const metadata = {
      changedAt: envelope.record.changed_at,
      pollId: envelope.pollId,
      source: { topic: change.resource, partition: change.partition, offset: change.offset },
      // `decidedAt` is the instant the decision was taken for: views and as-of reads use it as "now".
      decidedAt: now.toISOString(),
      // The record's trace (tracing/spans.ts): the projector's view write joins it.
      ...(change.traceparent ? { traceparent: change.traceparent } : {}),
    }
    events.push(...decided.map((e) => ({ id: e.id, type: e.type, data: e.data, metadata: { ...metadata } })))
    outcomes.push({ kind: 'appended', stream, events: decided.length })
  }
  let stale = false
  if (events.length === 0) {
    // Nothing to append means no expected revision checks the cached state: confirm it is
    // still the stream's last revision (one small read) before trusting "unchanged".
    if (cached && !(await isCurrent(stream, base.revision, deps.store))) {
      cache!.delete(stream)
      stale = true
    } else cache?.set(stream, base, stateBytesOf(group))
  }
  return { stream, group, base, state, events, outcomes, stale }
}

/** The cache's size of the stream's state, from the raw bytes (the JSON wire format) of its last record. */
const stateBytesOf = (group: Pending[]): number => stateBytesFromJson(group[group.length - 1].change.raw.length)

async function isCurrent(stream: string, revision: bigint | 'no_stream', store: EventStore): Promise<boolean> {
  const [last] = await store.readStream(stream, { direction: 'backwards', maxCount: 1 })
  return last === undefined ? revision === 'no_stream' : revision === last.revision
}
