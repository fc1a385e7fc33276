// The event store port: streams of events with revisions, a global order, optimistic concurrency
// and catch-up subscriptions. Adapters: sql.ts (embedded PGlite / PostgreSQL), esdb.ts (EventStoreDB).
// Revisions start at 0 within a stream; positions are global, increasing, and opaque beyond order.
import { KomboSyncError } from '../../errors/kombo-sync-error.ts'
import type { TenantShardFilter } from './tenant-shard.ts'

export type { TenantShardFilter } from './tenant-shard.ts'

export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint

export interface EventToAppend {
  /** UUID; appending an id the stream already holds at that place is a no-op (idempotent retry). */
  id: string
  type: string
  data: Record<string, unknown>
  metadata?: Record<string, unknown>
}

/**
 * The instant an event was decided for: `metadata.decidedAt` when the writer set it (the
 * processor, the clock and commands do), else when it was recorded. Views and as-of reads use it,
 * so they agree with the decision even when the deciding clock is not the store's.
 */
export function decidedAt(event: RecordedEvent): Date {
  const at = event.metadata.decidedAt
  return typeof at === 'string' && !Number.isNaN(Date.parse(at)) ? new Date(at) : event.recordedAt
}

export interface RecordedEvent {
  id: string
  type: string
  streamName: string
  revision: bigint
  position: bigint
  data: Record<string, unknown>
  metadata: Record<string, unknown>
  recordedAt: Date
}

export interface AppendResult {
  /** Revision of the stream's last event after the append. */
  nextExpectedRevision: bigint
  /** Global position of the last event written (or of the existing one on an idempotent retry). */
  position: bigint
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards'
  /** Inclusive; defaults to the start (forwards) or the end (backwards). */
  fromRevision?: bigint
  maxCount?: number
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. Omit to start at the beginning. */
  after?: bigint
  maxCount?: number
  /** Only streams whose names start with one of these prefixes (e.g. `employee-`). */
  streamPrefixes?: string[]
  /**
   * Which streams' event data the reader will look at (default: all). Events of other streams are
   * still delivered, in order and with their positions, but a decoding decorator (the personal-data
   * encryption) may hand them on as stored, undecoded: the reader must use only their stream name
   * and position. A projector shard reads the whole log and applies its own tenants' events only;
   * without this it would look up the keys of and decrypt every other tenant's events to drop them.
   */
  decodes?: (streamName: string) => boolean
  /**
   * The reader uses only each event's position, stream name, revision, id and type (e.g. counting a
   * tenant's events behind the projector): an adapter may hand events on with empty `data` and
   * `metadata` ({}), so that no payload leaves the store, and a decoding decorator decodes none.
   */
  withoutData?: boolean
  /**
   * Only the events of the shard's tenants (tenant-shard.ts: the stream's tenant hash mod count is
   * index), left out by the store itself, so a projector shard does not read the whole log. Two
   * things the reader must allow for: (1) when the read reaches the end of what is stored (fewer
   * than maxCount events), the last stored event of the selected streams is delivered too, whoever
   * its tenant, so the reader's position reaches the end of the log as an unfiltered reader's does
   * (its checkpoint and `caughtUp` waits depend on that); (2) an adapter may deliver more of other
   * tenants' events than that. So the reader keeps its own tenant check, and should name its
   * tenants' streams in `decodes` too. Streams that are not a tenant's are in no shard.
   */
  tenantShard?: TenantShardFilter
}

export interface ReadAllBackwardsOptions {
  /** Exclusive: events strictly before this position. Omit to start at the end of the store. */
  before?: bigint
  maxCount?: number
  /** Only streams whose names start with one of these prefixes (e.g. `employee-`). */
  streamPrefixes?: string[]
}

export interface CountAllOptions {
  /** Exclusive: events strictly after this position. Omit to count from the beginning. */
  after?: bigint
  /** Only streams whose names start with one of these prefixes (e.g. `employee-acme_`: one tenant's). */
  streamPrefixes: string[]
  /** Stop counting here: the answer is min(upTo, the count). Keeps the question as cheap as the caller needs. */
  upTo: number
}

export interface SubscribeOptions extends Omit<ReadAllOptions, 'maxCount'> {
  /** Called when the subscription fails for good; it is closed by then. */
  onError?: (err: Error) => void
  /**
   * A decorator's step over the events the store fetched together (a page of the SQL store; from
   * EventStoreDB, what its stream had buffered, up to 500), run before they are handed on one by one: what it returns
   * is delivered, in its order; what it leaves out is passed over (the position still moves past
   * it). The personal-data decorator opens a page's events with one key lookup here, instead of
   * one lookup per event (a catch-up over 10k new employees was 15k round trips). Throwing fails
   * the subscription, as the handler throwing does.
   */
  decodePage?: (events: RecordedEvent[]) => Promise<RecordedEvent[]>
}

export interface Subscription {
  /** Resolves once the subscription has stopped and no handler call is running. */
  close(): Promise<void>
}

/** One stream's part of `appendToStreams`. */
export interface StreamAppend {
  streamName: string
  events: EventToAppend[]
  expectedRevision?: ExpectedRevision
}

export interface EventStore {
  appendToStream(streamName: string, events: EventToAppend[], options?: { expectedRevision?: ExpectedRevision }): Promise<AppendResult>
  /**
   * Several appends in one call, each with its own expected revision and the same meaning as
   * `appendToStream`. Not atomic across streams: result i is append i's result, or its
   * WrongExpectedRevisionError when only that stream's expectation failed. Any other failure rejects
   * the call (each append then may or may not have happened; a retry is idempotent). Adapters that
   * can do it in one round trip do (SQL: one transaction); a stream must appear at most once.
   */
  appendToStreams(appends: StreamAppend[]): Promise<Array<AppendResult | WrongExpectedRevisionError>>
  /** The stream's events; an empty list when the stream does not exist. */
  readStream(streamName: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>
  /**
   * Several whole streams, forwards: entry i is `readStream(names[i])` (an empty list for a stream
   * that does not exist). One round trip where the adapter can (SQL: one query), so a batch's
   * streams cost one read, not one each. The names must be distinct.
   */
  readStreams(names: string[]): Promise<RecordedEvent[][]>
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>
  /**
   * The global order read from the end: the newest event first. `readAllBackwards({ maxCount: 1,
   * streamPrefixes })` is the last event a reader of those streams will see (a rebuild's end),
   * found without reading the whole store. Each adapter reads from the end (SQL: the position
   * index backwards; EventStoreDB: $all backwards).
   */
  readAllBackwards(options?: ReadAllBackwardsOptions): Promise<RecordedEvent[]>
  /**
   * How many events `readAll({ after, streamPrefixes })` would return, counted up to `upTo` without
   * reading their data where the adapter can (SQL: one statement over the position index from
   * `after`; EventStoreDB: $all read from `after`, counted by stream name). The cost grows with the
   * events after `after` (of every stream) until `upTo` of them matched: meant for short distances,
   * such as a tenant's events after a projector's checkpoint.
   */
  countAll(options: CountAllOptions): Promise<number>
  /**
   * Catch-up then live: calls `handler` for every event after `after`, one at a time, in global
   * order; the next event is delivered only after the previous handler call resolved.
   */
  subscribeToAll(options: SubscribeOptions, handler: (event: RecordedEvent) => Promise<void>): Subscription
  close(): Promise<void>
}

/** The expected revision did not match the stream; reload the stream and decide again. */
export class WrongExpectedRevisionError extends KomboSyncError {
  override name = 'WrongExpectedRevisionError'
  readonly retriable = true
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | 'no_stream',
  ) {
    super(`stream ${streamName}: expected revision ${String(expected)}, actual ${String(actual)}`)
  }
}

