// A TEST DOUBLE of EventStoreDB: an in-process gRPC server speaking the EventStoreDB client
// protocol for exactly the calls the esdb adapter makes (Streams.Append, Streams.Read for stream
// reads, $all reads and $all catch-up subscriptions, ServerFeatures.GetSupportedMethods). It reuses
// the service definitions generated inside @eventstore/db-client, so the real client talks to it
// over real gRPC. Storage and semantics live in log.ts. See README.md for what is left out.
import { createRequire } from 'node:module'
import { randomUUID } from 'node:crypto'
import * as grpc from '@grpc/grpc-js'
import { TransactionLog, type ExpectedRevision, type ProposedEvent, type StoredEvent } from './log.ts'

// The generated protobuf modules are CommonJS built with google-protobuf's `goog.object.extend`,
// which ESM named-export detection cannot see; require() them. They must be the same module
// instances the client uses, because the generated serialisers check `instanceof`.
const require = createRequire(import.meta.url)
type StreamsPb = typeof import('@eventstore/db-client/generated/streams_pb.js')
type SharedPb = typeof import('@eventstore/db-client/generated/shared_pb.js')
type FeaturesPb = typeof import('@eventstore/db-client/generated/serverfeatures_pb.js')
const streamsPb: StreamsPb = require('@eventstore/db-client/generated/streams_pb.js')
const sharedPb: SharedPb = require('@eventstore/db-client/generated/shared_pb.js')
const featuresPb: FeaturesPb = require('@eventstore/db-client/generated/serverfeatures_pb.js')
const { StreamsService } = require('@eventstore/db-client/generated/streams_grpc_pb.js') as typeof import('@eventstore/db-client/generated/streams_grpc_pb.js')
const { ServerFeaturesService } = require('@eventstore/db-client/generated/serverfeatures_grpc_pb.js') as typeof import('@eventstore/db-client/generated/serverfeatures_grpc_pb.js')

type ReadReq = InstanceType<StreamsPb['ReadReq']>
type ReadResp = InstanceType<StreamsPb['ReadResp']>
type AppendReq = InstanceType<StreamsPb['AppendReq']>
type AppendResp = InstanceType<StreamsPb['AppendResp']>
type FilterOptions = InstanceType<typeof streamsPb.ReadReq.Options.FilterOptions>

const { ReadReq, ReadResp, AppendReq, AppendResp } = streamsPb
const StreamOptionCase = ReadReq.Options.StreamOptionCase
const CountOptionCase = ReadReq.Options.CountOptionCase
const FilterOptionCase = ReadReq.Options.FilterOptionCase
const AllOptionCase = ReadReq.Options.AllOptions.AllOptionCase
const RevisionOptionCase = ReadReq.Options.StreamOptions.RevisionOptionCase
const ExpectedCase = AppendReq.Options.ExpectedStreamRevisionCase
const BACKWARDS = ReadReq.Options.ReadDirection.BACKWARDS

export interface EsdbDouble {
  /** e.g. `esdb://127.0.0.1:PORT?tls=false` */
  connectionString: string
  port: number
  /** The in-memory storage: pass it to another startEsdbDouble() to "restart the server" with its data. */
  log: TransactionLog
  close(): Promise<void>
}

export interface EsdbDoubleOptions {
  /** Default a random free port; give the old one to restart on the address clients already use. */
  port?: number
  /** Default a new empty log; give a closed double's log to keep its streams across a restart. */
  log?: TransactionLog
}

export async function startEsdbDouble(options: EsdbDoubleOptions = {}): Promise<EsdbDouble> {
  const log = options.log ?? new TransactionLog()
  const server = new grpc.Server()
  server.addService(StreamsService, {
    read: (call: grpc.ServerWritableStream<ReadReq, ReadResp>) => {
      handleRead(log, call).catch((err: Error) => call.destroy(err))
    },
    append: (call: grpc.ServerReadableStream<AppendReq, AppendResp>, callback: grpc.sendUnaryData<AppendResp>) =>
      handleAppend(log, call, callback),
  })
  server.addService(ServerFeaturesService, {
    getSupportedMethods: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
      // Only Read and Append: without BatchAppend the client falls back to Append.
      const methods = ['read', 'append'].map((name) =>
        new featuresPb.SupportedMethod().setServiceName('event_store.client.streams.streams').setMethodName(name),
      )
      callback(null, new featuresPb.SupportedMethods().setMethodsList(methods).setEventStoreServerVersion('0.0.0-test-double'))
    },
  })
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  )
  return {
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    port,
    log,
    // forceShutdown: live subscriptions never end on their own.
    close: async () => server.forceShutdown(),
  }
}

function invalid(details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code: grpc.status.INVALID_ARGUMENT, details, metadata: new grpc.Metadata() })
}

function streamNameOf(identifier: InstanceType<SharedPb['StreamIdentifier']> | undefined): string {
  if (!identifier) throw invalid('stream identifier missing')
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8')
}

function uuidOf(uuid: InstanceType<SharedPb['UUID']> | undefined): string {
  if (!uuid) throw invalid('event id missing')
  if (uuid.hasStructured()) {
    const s = uuid.getStructured()!
    const hex = (BigInt.asUintN(64, BigInt(s.getMostSignificantBits())).toString(16).padStart(16, '0') +
      BigInt.asUintN(64, BigInt(s.getLeastSignificantBits())).toString(16).padStart(16, '0'))
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }
  return uuid.getString()
}

// ---- Append (client-streaming: options first, then proposed messages) ----

function handleAppend(log: TransactionLog, call: grpc.ServerReadableStream<AppendReq, AppendResp>, callback: grpc.sendUnaryData<AppendResp>): void {
  let streamName: string | undefined
  let expected: ExpectedRevision | undefined
  const proposed: ProposedEvent[] = []
  let failed = false
  const fail = (err: grpc.ServiceError) => {
    if (!failed) callback(err)
    failed = true
  }
  call.on('data', (req: AppendReq) => {
    if (failed) return
    try {
      if (req.hasOptions()) {
        const options = req.getOptions()!
        streamName = streamNameOf(options.getStreamIdentifier())
        expected = expectedOf(options)
      } else if (req.hasProposedMessage()) {
        if (streamName === undefined) throw invalid('options must come first')
        const m = req.getProposedMessage()!
        proposed.push({
          id: uuidOf(m.getId()),
          metadata: new Map(m.getMetadataMap().toArray() as [string, string][]),
          data: m.getData_asU8(),
          customMetadata: m.getCustomMetadata_asU8(),
        })
      }
    } catch (err) {
      fail(err as grpc.ServiceError)
    }
  })
  call.on('error', () => { failed = true })
  call.on('end', () => {
    if (failed) return
    if (streamName === undefined || expected === undefined) return fail(invalid('append without options'))
    callback(null, appendResponse(log.append(streamName, expected, proposed)))
  })
}

function expectedOf(options: InstanceType<typeof AppendReq.Options>): ExpectedRevision {
  switch (options.getExpectedStreamRevisionCase()) {
    case ExpectedCase.REVISION: return { kind: 'exact', revision: BigInt(options.getRevision()) }
    case ExpectedCase.NO_STREAM: return { kind: 'no_stream' }
    case ExpectedCase.STREAM_EXISTS: return { kind: 'stream_exists' }
    case ExpectedCase.ANY: return { kind: 'any' }
    default: throw invalid('expected stream revision missing')
  }
}

function appendResponse(outcome: ReturnType<TransactionLog['append']>): AppendResp {
  const resp = new AppendResp()
  if (outcome.ok) {
    const success = new AppendResp.Success()
    if (outcome.currentRevision < 0n) success.setNoStream(new sharedPb.Empty())
    else success.setCurrentRevision(outcome.currentRevision.toString())
    if (outcome.position < 0n) success.setNoPosition(new sharedPb.Empty())
    else success.setPosition(new AppendResp.Position().setCommitPosition(outcome.position.toString()).setPreparePosition(outcome.position.toString()))
    return resp.setSuccess(success)
  }
  // The server reports a version conflict as a result field, not as a gRPC error.
  const wrong = new AppendResp.WrongExpectedVersion()
  if (outcome.currentRevision === 'no_stream') wrong.setCurrentNoStream(new sharedPb.Empty())
  else wrong.setCurrentRevision(outcome.currentRevision.toString())
  switch (outcome.expected.kind) {
    case 'exact': wrong.setExpectedRevision(outcome.expected.revision.toString()); break
    case 'no_stream': wrong.setExpectedNoStream(new sharedPb.Empty()); break
    case 'stream_exists': wrong.setExpectedStreamExists(new sharedPb.Empty()); break
    case 'any': wrong.setExpectedAny(new sharedPb.Empty()); break
  }
  return resp.setWrongExpectedVersion(wrong)
}

// ---- Read (server-streaming: stream reads, $all reads, $all subscriptions) ----

/** Writes with backpressure; resolves false once the call is cancelled. */
function sender(call: grpc.ServerWritableStream<ReadReq, ReadResp>) {
  let cancelled = false
  const waiters = new Set<() => void>()
  call.on('cancelled', () => {
    cancelled = true
    for (const w of waiters) w()
  })
  const wait = (register: (wake: () => void) => () => void) =>
    new Promise<void>((resolve) => {
      const wake = () => { waiters.delete(wake); unregister(); resolve() }
      waiters.add(wake)
      const unregister = register(wake)
    })
  return {
    get cancelled() { return cancelled },
    async send(resp: ReadResp): Promise<boolean> {
      if (cancelled) return false
      if (!call.write(resp)) await wait((wake) => { call.once('drain', wake); return () => call.off('drain', wake) })
      return !cancelled
    },
    wait,
  }
}

async function handleRead(log: TransactionLog, call: grpc.ServerWritableStream<ReadReq, ReadResp>): Promise<void> {
  const options = call.request.getOptions()
  if (!options) throw invalid('read options missing')
  const out = sender(call)
  const subscribing = options.getCountOptionCase() === CountOptionCase.SUBSCRIPTION
  const count = options.getCountOptionCase() === CountOptionCase.COUNT ? BigInt(options.getCount()) : BigInt(Number.MAX_SAFE_INTEGER)
  const backwards = options.getReadDirection() === BACKWARDS
  const matches = filterOf(options.getFilterOptionCase() === FilterOptionCase.FILTER ? options.getFilter() : undefined)

  if (options.getStreamOptionCase() === StreamOptionCase.STREAM) {
    if (subscribing) throw Object.assign(invalid('stream subscriptions are not implemented by the test double'), { code: grpc.status.UNIMPLEMENTED })
    const streamOptions = options.getStream()!
    const name = streamNameOf(streamOptions.getStreamIdentifier())
    const stream = log.stream(name)
    if (!stream) {
      await out.send(new ReadResp().setStreamNotFound(new ReadResp.StreamNotFound().setStreamIdentifier(streamOptions.getStreamIdentifier())))
      { call.end(); return }
    }
    const last = stream.length - 1
    const revisionCase = streamOptions.getRevisionOptionCase()
    const requested = revisionCase === RevisionOptionCase.REVISION ? Number(streamOptions.getRevision())
      : revisionCase === RevisionOptionCase.END ? (backwards ? last : last + 1) : (backwards ? -1 : 0)
    const selected = backwards
      ? stream.slice(Math.max(0, Math.min(requested, last) - Number(count) + 1), Math.min(requested, last) + 1).reverse()
      : stream.slice(requested, requested + Number(count))
    for (const event of selected) if (!(await out.send(eventResponse(event)))) return
    { call.end(); return }
  }

  // $all: positions are log positions; forwards reads include the given position, backwards reads
  // stop before it, and subscriptions start strictly after it (as the server does).
  const all = options.getAll()!
  const at = all.getAllOptionCase() === AllOptionCase.POSITION ? BigInt(all.getPosition()!.getCommitPosition()) : undefined
  const startCase = all.getAllOptionCase()

  if (!subscribing) {
    let selected: StoredEvent[]
    if (backwards) {
      const end = startCase === AllOptionCase.START ? 0 : at === undefined ? log.all.length : log.all.findIndex((e) => e.position >= at)
      selected = log.all.slice(0, end < 0 ? log.all.length : end).reverse()
    } else {
      const start = startCase === AllOptionCase.END ? log.all.length : at === undefined ? 0 : log.all.findIndex((e) => e.position >= at)
      selected = start < 0 ? [] : log.all.slice(start)
    }
    let sent = 0n
    for (const event of selected) {
      if (sent >= count) break
      if (!matches(event)) continue
      if (!(await out.send(eventResponse(event)))) return
      sent++
    }
    { call.end(); return }
  }

  // Subscription: confirmation, catch-up from the log, `caught_up`, then live events as appended.
  let cursor = startCase === AllOptionCase.END ? log.all.length
    : at === undefined ? 0
    : (() => { const i = log.all.findIndex((e) => e.position > at); return i < 0 ? log.all.length : i })()
  if (!(await out.send(new ReadResp().setConfirmation(new ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID()))))) return
  let caughtUp = false
  while (!out.cancelled) {
    while (cursor < log.all.length) {
      const event = log.all[cursor++]
      if (matches(event) && !(await out.send(eventResponse(event)))) return
    }
    if (!caughtUp) {
      caughtUp = true
      if (!(await out.send(new ReadResp().setCaughtUp(new ReadResp.CaughtUp())))) return
      continue
    }
    await out.wait((wake) => log.onAppend(wake))
  }
}

function filterOf(filter: FilterOptions | undefined): (event: StoredEvent) => boolean {
  if (!filter) return () => true
  const onStream = filter.hasStreamIdentifier()
  const expression = onStream ? filter.getStreamIdentifier()! : filter.getEventType()!
  const prefixes = expression.getPrefixList()
  const regex = expression.getRegex() ? new RegExp(expression.getRegex()) : undefined
  return (event) => {
    const subject = onStream ? event.streamName : (event.metadata.get('type') ?? '')
    if (prefixes.length > 0) return prefixes.some((p) => subject.startsWith(p))
    return regex ? regex.test(subject) : true
  }
}

function eventResponse(event: StoredEvent): ReadResp {
  const recorded = new ReadResp.ReadEvent.RecordedEvent()
    .setId(new sharedPb.UUID().setString(event.id))
    .setStreamIdentifier(new sharedPb.StreamIdentifier().setStreamName(Buffer.from(event.streamName, 'utf8')))
    // uint64 fields are generated with jstype = JS_STRING: the setters take decimal strings.
    .setStreamRevision(event.revision.toString())
    .setPreparePosition(event.position.toString())
    .setCommitPosition(event.position.toString())
    .setData(event.data)
    .setCustomMetadata(event.customMetadata)
  const metadata = recorded.getMetadataMap()
  for (const [key, value] of event.metadata) metadata.set(key, value)
  metadata.set('created', event.createdTicks.toString())
  return new ReadResp().setEvent(new ReadResp.ReadEvent().setEvent(recorded).setCommitPosition(event.position.toString()))
}
