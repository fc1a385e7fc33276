// The in-memory transaction log behind the EventStoreDB test double. It models the server's
// documented append and read semantics, independent of gRPC: revisions from 0 per stream,
// expected revision checks (any / no_stream / stream_exists / exact), idempotent re-append of the
// same event ids, and a global log whose positions grow by the size of each record (as ESDB's byte
// offsets do), so callers cannot mistake positions for counters.

export type ExpectedRevision =
  | { kind: 'any' }
  | { kind: 'no_stream' }
  | { kind: 'stream_exists' }
  | { kind: 'exact'; revision: bigint }

export interface ProposedEvent {
  id: string
  metadata: Map<string, string> // `type`, `content-type`
  data: Uint8Array
  customMetadata: Uint8Array
}

export interface StoredEvent extends ProposedEvent {
  streamName: string
  revision: bigint
  /** ESDB v20+ writes each event as its own committed prepare: commit == prepare == log position. */
  position: bigint
  /** .NET ticks (100 ns) since the Unix epoch, as the server sends them. */
  createdTicks: bigint
}

export type AppendOutcome =
  | { ok: true; currentRevision: bigint; position: bigint }
  | { ok: false; currentRevision: bigint | 'no_stream'; expected: ExpectedRevision }

const recordOverhead = 64n

export class TransactionLog {
  readonly all: StoredEvent[] = []
  private readonly streams = new Map<string, StoredEvent[]>()
  private nextPosition = 0n
  private readonly listeners = new Set<() => void>()

  stream(name: string): StoredEvent[] | undefined {
    return this.streams.get(name)
  }

  /** Called after every successful write, so live subscriptions can pump. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  append(streamName: string, expected: ExpectedRevision, proposed: ProposedEvent[]): AppendOutcome {
    const existing = this.streams.get(streamName) ?? []
    const current: bigint | 'no_stream' = existing.length === 0 ? 'no_stream' : BigInt(existing.length - 1)

    const idempotent = this.idempotentMatch(existing, expected, proposed)
    // A retry that only partly matches what was written is neither new nor a retry: the server
    // answers wrong-expected-version ("corrupted idempotency").
    if (idempotent === 'partial') return { ok: false, currentRevision: current, expected }
    if (idempotent) return idempotent

    const expectedOk =
      expected.kind === 'any' ||
      (expected.kind === 'no_stream' && current === 'no_stream') ||
      (expected.kind === 'stream_exists' && current !== 'no_stream') ||
      (expected.kind === 'exact' && current === expected.revision)
    if (!expectedOk) return { ok: false, currentRevision: current, expected }

    if (proposed.length === 0) {
      // The server accepts an empty write and reports the stream as it is.
      const last = existing[existing.length - 1]
      return { ok: true, currentRevision: current === 'no_stream' ? -1n : current, position: last?.position ?? -1n }
    }

    const createdTicks = BigInt(Date.now()) * 10_000n
    const stream = existing.length === 0 ? [] : existing
    for (const event of proposed) {
      const stored: StoredEvent = {
        ...event,
        streamName,
        revision: BigInt(stream.length),
        position: this.nextPosition,
        createdTicks,
      }
      this.nextPosition += recordOverhead + BigInt(event.data.length + event.customMetadata.length + streamName.length)
      stream.push(stored)
      this.all.push(stored)
    }
    this.streams.set(streamName, stream)
    for (const listener of [...this.listeners]) listener()
    const last = stream[stream.length - 1]
    return { ok: true, currentRevision: last.revision, position: last.position }
  }

  /**
   * ESDB recognises a retried write by its event ids: with an exact (or no_stream) expected revision
   * the events right after it must carry the same ids in the same order; with any / stream_exists
   * the first id is looked up in the stream and the rest must follow it. A full match succeeds
   * without writing; a match of the first id only is 'partial'; no match is decided as a new write.
   */
  private idempotentMatch(existing: StoredEvent[], expected: ExpectedRevision, proposed: ProposedEvent[]): AppendOutcome | 'partial' | undefined {
    if (proposed.length === 0 || existing.length === 0) return undefined
    let start: number
    if (expected.kind === 'exact') start = Number(expected.revision) + 1
    else if (expected.kind === 'no_stream') start = 0
    else start = existing.findIndex((e) => e.id === proposed[0].id)
    if (start < 0 || start >= existing.length || existing[start].id !== proposed[0].id) return undefined
    for (let i = 1; i < proposed.length; i++) {
      if (existing[start + i]?.id !== proposed[i].id) return 'partial'
    }
    const last = existing[start + proposed.length - 1]
    return { ok: true, currentRevision: last.revision, position: last.position }
  }
}
