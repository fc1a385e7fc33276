// The EventStoreDB adapter of the event store port, over gRPC with @eventstore/db-client.
//
// Positions: ESDB identifies a place in $all by {commit, prepare}. Since v20 every appended event is
// its own implicitly committed prepare record, so commit == prepare == the event's log position and
// the commit position alone identifies an event. The port's single bigint position is that commit
// position; to read or subscribe "after" it we start at {commit: after, prepare: after} and drop
// anything at or below `after` (reads from a position include it; the filter also guards
// subscriptions against redelivery).
//
// System events ($-prefixed streams and event types: stream metadata, $settings, projection
// links) are never handed to callers. No client type leaves this module.
import {
  BACKWARDS,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  FORWARDS,
  NotLeaderError,
  START,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type ResolvedEvent,
} from '@eventstore/db-client'
import {
  WrongExpectedRevisionError,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type CountAllOptions,
  type ReadAllOptions,
  type ReadAllBackwardsOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from './port.ts'
import { appendEach, readEach } from './append-each.ts'
import { streamInShard, type TenantShardFilter } from './tenant-shard.ts'
import { KomboSyncError } from '../../errors/kombo-sync-error.ts'

/** EventStoreDB refused or failed an operation; `retriable` says whether trying again can help. */
export class EventStoreOperationError extends KomboSyncError {
  override name = 'EventStoreOperationError'
  constructor(
    readonly operation: string,
    readonly retriable: boolean,
    cause: unknown,
  ) {
    super(`EventStoreDB ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}

/** A subscription stopped without being closed (server gone, connection lost, handler failed). Subscribe again from the last position handled. */
export class SubscriptionDroppedError extends KomboSyncError {
  override name = 'SubscriptionDroppedError'
  readonly retriable = true
  constructor(reason: string, cause?: unknown) {
    super(`EventStoreDB subscription to $all dropped: ${reason}`, { cause })
  }
}

// Transient conditions of a cluster or connection; anything else (access denied, bad request,
// deleted stream) will fail the same way again. Connection failures can also surface as raw gRPC
// errors (the client does not convert them all), hence the status-code check.
const grpcUnavailable = 14
const grpcDeadlineExceeded = 4
const isTransient = (err: unknown) =>
  err instanceof UnavailableError ||
  err instanceof DeadlineExceededError ||
  err instanceof NotLeaderError ||
  [grpcUnavailable, grpcDeadlineExceeded].includes((err as { code?: unknown } | null)?.code as number)

const operationError = (operation: string, err: unknown) =>
  err instanceof WrongExpectedRevisionError || err instanceof EventStoreOperationError ? err : new EventStoreOperationError(operation, isTransient(err), err)

/** What the adapter's methods share: the one gRPC client and the live subscriptions. */
interface EsdbContext {
  client: EventStoreDBClient
  subscriptions: Set<Subscription>
}

async function appendToStreamEsdb(
  ctx: EsdbContext,
  streamName: string,
  events: EventToAppend[],
  options: { expectedRevision?: ExpectedRevision } = {},
): Promise<AppendResult> {
  const expectedRevision = options.expectedRevision ?? 'any'
  try {
    const result = await ctx.client.appendToStream(
      streamName,
      events.map((e) => jsonEvent({ id: e.id, type: e.type, data: e.data, ...(e.metadata ? { metadata: e.metadata } : {}) })),
      { expectedRevision },
    )
    // The server reports the position of the last event written (or, on an idempotent retry,
    // of the matching event); should one not, look it up rather than invent one.
    const position = result.position?.commit ?? (await positionOf(ctx, streamName, result.nextExpectedRevision))
    return { nextExpectedRevision: result.nextExpectedRevision, position }
  } catch (err) {
    if (err instanceof WrongExpectedVersionError) {
      const actual = err.actualVersion
      throw new WrongExpectedRevisionError(streamName, expectedRevision, typeof actual === 'bigint' ? actual : 'no_stream')
    }
    throw operationError('append', err)
  }
}

async function positionOf(ctx: EsdbContext, streamName: string, revision: bigint): Promise<bigint> {
  const [event] = await readStreamEsdb(ctx, streamName, { fromRevision: revision, maxCount: 1 })
  if (!event) throw new EventStoreOperationError('append', true, new Error(`stream ${streamName}: revision ${revision} was acknowledged but cannot be read yet`))
  return event.position
}

async function readStreamEsdb(ctx: EsdbContext, streamName: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
  const backwards = options.direction === 'backwards'
  const read = ctx.client.readStream(streamName, {
    direction: backwards ? BACKWARDS : FORWARDS,
    fromRevision: options.fromRevision ?? (backwards ? END : START),
    ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
  })
  const out: RecordedEvent[] = []
  try {
    for await (const resolved of read) {
      const event = toRecordedEvent(resolved)
      if (event) out.push(event)
    }
  } catch (err) {
    if (err instanceof StreamNotFoundError) return []
    throw operationError('read stream', err)
  }
  return out
}

async function readAllEsdb(ctx: EsdbContext, options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
  const { after, maxCount = Number.POSITIVE_INFINITY, streamPrefixes, tenantShard } = options
  if (maxCount <= 0) return []
  const read = ctx.client.readAll({ fromPosition: after === undefined ? START : { commit: after, prepare: after } })
  return collectPage(read, { skip: (position) => after !== undefined && position <= after, streamPrefixes, tenantShard, maxCount, what: 'read $all' })
}

/** $all read backwards from `before` (or the end), prefixes filtered here as in readAllEsdb. */
async function readAllBackwardsEsdb(ctx: EsdbContext, options: ReadAllBackwardsOptions = {}): Promise<RecordedEvent[]> {
  const { before, maxCount = Number.POSITIVE_INFINITY, streamPrefixes } = options
  if (maxCount <= 0) return []
  const read = ctx.client.readAll({ direction: BACKWARDS, fromPosition: before === undefined ? END : { commit: before, prepare: before } })
  return collectPage(read, { skip: (position) => before !== undefined && position >= before, streamPrefixes, maxCount, what: 'read $all backwards' })
}

/**
 * Counts the prefixed streams' events after `after` up to `upTo`: $all read forwards from `after`
 * (client 6.2 reads $all without a server-side filter, so every stream's events after `after` come
 * over the wire until `upTo` matched), tested by stream name only, never converted; the read is
 * cancelled once `upTo` is reached.
 */
async function countAllEsdb(ctx: EsdbContext, options: CountAllOptions): Promise<number> {
  const { after, streamPrefixes, upTo } = options
  if (!(upTo > 0) || streamPrefixes.length === 0) return 0
  const read = ctx.client.readAll({ fromPosition: after === undefined ? START : { commit: after, prepare: after } })
  let n = 0
  try {
    for await (const resolved of read) {
      const streamId = resolved.event?.streamId
      if (streamId === undefined || !streamPrefixes.some((p) => streamId.startsWith(p)) || !isDeliverable(resolved)) continue
      if (after !== undefined && resolved.event!.position!.commit <= after) continue
      if (++n >= upTo) break
    }
  } catch (err) {
    throw operationError('count $all', err)
  } finally {
    if (n >= upTo) await read.cancel()
  }
  return n
}

/**
 * One page of a $all read, either direction. Client 6.2 reads $all without a server-side filter,
 * so the prefix filter is applied here; the read is a lazy stream, cancelled as soon as the page is
 * full. `skip`: the start position itself (the server's start is inclusive, ours exclusive).
 * `tenantShard`: other tenants' events are dropped by stream name before they are converted; the
 * last one passed over is the tail delivered when the page ends short (ReadAllOptions.tenantShard).
 * The server still sends them: filtering on the server would need per-tenant streams to read
 * (e.g. a `$ce-`-like category per tenant), which the stream names do not give today.
 */
async function collectPage(
  read: ReturnType<EventStoreDBClient['readAll']>,
  o: { skip: (position: bigint) => boolean; streamPrefixes?: string[]; tenantShard?: TenantShardFilter; maxCount: number; what: string },
): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = []
  let passedOver: ResolvedEvent | undefined
  let full = false
  try {
    for await (const resolved of read) {
      const streamId = resolved.event?.streamId
      if (streamId === undefined || (o.streamPrefixes && !o.streamPrefixes.some((p) => streamId.startsWith(p)))) continue
      if (o.tenantShard && !streamInShard(o.tenantShard, streamId)) {
        if (isDeliverable(resolved)) passedOver = resolved
        continue
      }
      const event = toRecordedEvent(resolved)
      if (!event || o.skip(event.position)) continue
      passedOver = undefined
      out.push(event)
      if (out.length >= o.maxCount) {
        full = true
        break
      }
    }
  } catch (err) {
    throw operationError(o.what, err)
  } finally {
    if (full) await read.cancel()
  }
  const tail = !full && passedOver ? toRecordedEvent(passedOver) : undefined
  if (tail && !o.skip(tail.position)) out.push(tail)
  return out
}

/** At most this many buffered events are handed on together (decodePage's page). */
const DELIVERY_PAGE = 500

function subscribeToAllEsdb(ctx: EsdbContext, options: SubscribeOptions, handler: (event: RecordedEvent) => Promise<void>): Subscription {
  const { streamPrefixes, tenantShard, onError, decodePage } = options
  let last = options.after
  const stream = ctx.client.subscribeToAll({
    fromPosition: last === undefined ? START : { commit: last, prepare: last },
    filter: streamPrefixes && streamPrefixes.length > 0 ? streamNameFilter({ prefixes: streamPrefixes }) : excludeSystemEvents(),
  })
  let stopped = false
  let delivering: Promise<void> = Promise.resolve()
  const subscription: Subscription = {
    async close() {
      if (!stopped) {
        stopped = true
        await stream.unsubscribe()
        // A cancelled gRPC call does not end the client's stream; end it so the loop finishes.
        stream.destroy()
      }
      await delivering
      ctx.subscriptions.delete(subscription)
    },
  }
  // The events already buffered (up to a page) are handed on together: `decodePage` sees them as
  // one page (one key lookup for the personal-data decorator, not one per event).
  let page: RecordedEvent[] = []
  const deliver = async () => {
    const events = page
    page = []
    let current = events[0]
    try {
      for (const decoded of decodePage ? await decodePage(events) : events) {
        if (stopped) return // closed: the rest of the page is not delivered (nor passed)
        current = decoded
        await handler(decoded)
        last = decoded.position
      }
    } catch (err) {
      throw new SubscriptionDroppedError(`the handler failed on ${current.streamName}@${current.revision}`, err)
    }
    if (!stopped) last = events[events.length - 1].position
  }
  // `for await` pulls the next event only after the handler resolved: one call at a time, and
  // the stream's buffer applies backpressure to the server.
  delivering = (async () => {
    try {
      for await (const resolved of stream) {
        if (stopped) break
        // Another shard's event is passed over (by name, before it is converted and handled) while
        // more are buffered; the last one that arrived is delivered, so the reader's position
        // keeps up with the log (ReadAllOptions.tenantShard).
        const more = stream.readableLength > 0
        if (tenantShard && resolved.event && !streamInShard(tenantShard, resolved.event.streamId) && more) continue
        const event = toRecordedEvent(resolved)
        const newest = page.length > 0 ? page[page.length - 1].position : last
        if (event && !(newest !== undefined && event.position <= newest) && (!streamPrefixes || streamPrefixes.some((p) => event.streamName.startsWith(p)))) {
          page.push(event)
        }
        if (page.length > 0 && (!more || page.length >= DELIVERY_PAGE)) await deliver()
      }
      if (page.length > 0 && !stopped) await deliver()
      if (!stopped) throw new SubscriptionDroppedError('the server ended it')
    } catch (err) {
      if (!stopped) {
        stopped = true
        await stream.unsubscribe().catch(() => {})
        stream.destroy()
        ctx.subscriptions.delete(subscription)
        onError?.(err instanceof SubscriptionDroppedError ? err : new SubscriptionDroppedError(err instanceof Error ? err.message : String(err), err))
      }
    }
  })()
  ctx.subscriptions.add(subscription)
  return subscription
}

export function openEsdbEventStore(connectionString: string): EventStore {
  const ctx: EsdbContext = { client: EventStoreDBClient.connectionString(connectionString), subscriptions: new Set() }
  const appendToStream: EventStore['appendToStream'] = (streamName, events, options) => appendToStreamEsdb(ctx, streamName, events, options)
  return {
    appendToStream,
    // EventStoreDB appends one stream per call: the streams go in parallel over the one connection.
    appendToStreams: (appends) => appendEach((a) => appendToStream(a.streamName, a.events, { expectedRevision: a.expectedRevision }), appends),
    readStream: (streamName, options) => readStreamEsdb(ctx, streamName, options),
    readStreams: (names) => readEach((name) => readStreamEsdb(ctx, name), names),
    readAll: (options) => readAllEsdb(ctx, options),
    readAllBackwards: (options) => readAllBackwardsEsdb(ctx, options),
    countAll: (options) => countAllEsdb(ctx, options),
    subscribeToAll: (options, handler) => subscribeToAllEsdb(ctx, options, handler),
    async close() {
      await Promise.all([...ctx.subscriptions].map((s) => s.close()))
      await ctx.client.dispose()
    },
  }
}

/** Whether callers ever see the event: ESDB's system events and non-JSON events are not. */
function isDeliverable(resolved: ResolvedEvent): boolean {
  const event = resolved.event
  return !!event && event.isJson && !event.streamId.startsWith('$') && !event.type.startsWith('$')
}

function toRecordedEvent(resolved: ResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event
  if (!event || !isDeliverable(resolved)) return undefined
  if (!event.position) throw new Error(`event ${event.id} in ${event.streamId} arrived without a position`)
  return {
    id: event.id,
    type: event.type,
    streamName: event.streamId,
    revision: event.revision,
    position: event.position.commit,
    data: event.data as Record<string, unknown>,
    metadata: isRecord(event.metadata) ? event.metadata : {},
    recordedAt: event.created,
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}
