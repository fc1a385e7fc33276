// The change log port: the durable, ordered log between the poller and the processors.
// Adapters: sql.ts (a table in the embedded database) and kafka.ts (Kafka + Schema Registry).
// Records with the same key keep their order; consumers commit a position only after their
// handler resolved, so delivery is at-least-once and processing must be idempotent.
import type { ChangeEnvelope } from '../../schemas/envelope.ts'
import type { KomboResource } from '../../schemas/kombo.ts'
import type { Traced } from '../../tracing/spans.ts'

export interface ConsumedChange {
  resource: KomboResource
  key: string
  /** Kafka partition (0 for the SQL log). */
  partition: number
  /** Offset within the partition, as a decimal string (Kafka offsets are int64). */
  offset: string
  /** The decoded value, not yet validated: the processor validates it and dead-letters failures. */
  value: unknown
  /** The bytes as stored, kept for the dead-letter store. */
  raw: Buffer
  /** Set when the bytes could not be decoded at all (bad JSON, unknown schema id …). */
  decodeError?: string
  /** The record's W3C trace context (tracing/spans.ts), when it was published with one. */
  traceparent?: string
}

export interface ChangeLogConsumer {
  /** Resolves once the consumer stopped after finishing the batch in flight. */
  stop(): Promise<void>
}

export interface ChangeLog {
  /**
   * Durably appends the envelopes; resolves only when all are stored. An envelope's trace context
   * (`envelope[TRACEPARENT]`, tracing/spans.ts) is stored beside it, never inside it.
   */
  publish(envelopes: Traced<ChangeEnvelope>[]): Promise<void>
  /**
   * Delivers batches (in log order; a batch may hold several keys, each key's records stay in order) to `handler`; positions are committed
   * per consumer group after the handler resolved. A handler that throws gets the batch again.
   */
  consume(
    group: string,
    handler: (batch: ConsumedChange[]) => Promise<void>,
    options?: { resources?: KomboResource[]; onError?: (err: Error) => void },
  ): Promise<ChangeLogConsumer>
  /**
   * How many published records the group has not committed yet (its lag), over the given
   * resources (default all). Used for readiness, metrics and "caught up" checks.
   */
  pending(group: string, resources?: KomboResource[]): Promise<number>
  /**
   * How many records of one tenant (keys `tenant:…`, schemas/envelope.ts) the group has not
   * committed yet, over every resource: the per-tenant backlog budget (producers/tenant-budget.ts)
   * asks it before each page it lets a poller publish. The Kafka adapter counts only what this
   * process published (what it cannot know cheaply otherwise); the SQL adapter counts the table.
   */
  tenantPending(group: string, tenant: string): Promise<number>
  close(): Promise<void>
}

export interface DeadLetter {
  id: string
  at: string
  reason: string
  /** Where it came from, e.g. `{topic, partition, offset}` or `{poll, resource}`. */
  origin: Record<string, unknown>
  key: string | null
  /** The original bytes, or their first MAX_STORED_RAW_BYTES when `rawSize` is larger. */
  raw: Buffer
  redrivenAt: string | null
  /** sha256 (hex) of the content the letter is deduplicated by (the record, or the full raw bytes). */
  contentHash: string
  /** Size of the original bytes (raw may hold a prefix only). */
  rawSize: number
  /** How many times this content was dead-lettered while the letter was pending (1 = once). */
  count: number
}

/** What a caller hands to `put`: the store adds id, time, hash, size and count. */
export interface NewDeadLetter {
  reason: string
  origin: Record<string, unknown>
  key: string | null
  raw: Buffer
  /**
   * What makes two letters the same (default: sha256 of `raw`). The processor passes a hash of the
   * record alone, so the same bad record re-read by every poll (a new envelope each time) is one letter.
   */
  contentHash?: string
}

export interface DeadLetterListOptions {
  includeRedriven?: boolean
  limit?: number
  /** Only letters whose key is `tenant:…`. */
  tenant?: string
  /** Only letters whose origin names this resource. */
  resource?: string
  /** Only letters whose reason contains this text (case-insensitive). */
  reason?: string
  /** Paging: only letters older than the letter with this id (newest first). */
  before?: string
}

/** Raw bytes kept per letter at most; a larger original keeps its prefix, hash and size. */
export const MAX_STORED_RAW_BYTES = 256 * 1024

/**
 * Same-content letters are one letter: a `put` whose (tenant, resource, contentHash) matches a
 * pending letter returns that letter with `count` increased instead of adding another.
 */
export interface DeadLetterStore {
  put(letter: NewDeadLetter): Promise<DeadLetter>
  list(options?: DeadLetterListOptions): Promise<DeadLetter[]>
  markRedriven(id: string): Promise<void>
  /** Releases what the adapter holds (a Kafka producer); the SQL adapter's database is closed by its owner. */
  close(): Promise<void>
}
