// The dead-letter store on Kafka: topic `kombo-sync.dead-letter.v1` (with the environment prefix),
// one partition so the inspector sees one total order. Each letter is a record whose value is the
// original bytes, untouched, and whose headers carry the id, time, reason and origin (JSON).
// Re-driving appends a small marker record (header `dl-kind: redriven`) to the same topic instead
// of rewriting anything: list() reads the topic from the beginning to its current end and applies
// the markers. That is O(topic) per call, which suits an operator's inspector, not a hot path.
import { randomUUID } from 'node:crypto'
import { Kafka, logLevel, type IHeaders } from 'kafkajs'
import type { DeadLetter, DeadLetterStore } from './port.ts'
import { ensureTopics } from './kafka-topics.ts'
import { filterLetters, prepareLetter, resourceOf, tenantOf } from './dead-letter-content.ts'
import { DeadLetterNotFoundError } from './sql-dead-letters.ts'

export { DeadLetterNotFoundError }

export interface KafkaDeadLetterOptions {
  brokers: string[]
  clientId: string
  /** Prepended to the topic and the inspector's consumer groups (default ''), as for the change log. */
  topicPrefix?: string
  replicationFactor?: number
  /** Accepted for symmetry with the change log's options; letters are raw bytes, not registry-encoded. */
  registryUrl?: string
}

export const deadLetterTopic = (prefix = ''): string => `${prefix}kombo-sync.dead-letter.v1`

const H = { kind: 'dl-kind', id: 'dl-id', at: 'dl-at', reason: 'dl-reason', origin: 'dl-origin', hash: 'dl-hash', size: 'dl-size' } as const
const scopeOf = (l: Pick<DeadLetter, 'key' | 'origin' | 'contentHash'>): string => `${tenantOf(l.key) ?? ''}\u0000${resourceOf(l.origin) ?? ''}\u0000${l.contentHash}`

export async function openKafkaDeadLetterStore(options: KafkaDeadLetterOptions): Promise<DeadLetterStore> {
  const prefix = options.topicPrefix ?? ''
  const topic = deadLetterTopic(prefix)
  const replicationFactor = options.replicationFactor ?? 1
  const kafka = new Kafka({ brokers: options.brokers, clientId: options.clientId, logLevel: logLevel.WARN })

  // Letters wait for an operator: never expire them by time.
  await ensureTopics(kafka, [topic], 1, replicationFactor, {
    'cleanup.policy': 'delete',
    'retention.ms': '-1',
    'min.insync.replicas': String(Math.min(2, replicationFactor)),
  })

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()

  /** Every record of the topic up to its current end, in log order. */
  async function readAll(): Promise<Array<{ key: Buffer | null; value: Buffer | null; headers: IHeaders }>> {
    const admin = kafka.admin()
    await admin.connect()
    const [end] = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect())
    const high = BigInt(end?.high ?? '0')
    if (high === 0n) return []
    // A throw-away group that never commits: the broker forgets it once it is empty.
    const consumer = kafka.consumer({ groupId: `${prefix}kombo-sync.dead-letter-inspector.${randomUUID()}`, maxWaitTimeInMs: 500 })
    const records: Array<{ key: Buffer | null; value: Buffer | null; headers: IHeaders }> = []
    await consumer.connect()
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true })
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ message }) => {
              if (BigInt(message.offset) >= high) return
              records.push({ key: message.key, value: message.value, headers: message.headers ?? {} })
              if (BigInt(message.offset) + 1n >= high) resolve()
            },
          })
          .catch(reject)
      })
    } finally {
      await consumer.disconnect()
    }
    return records
  }

  async function letters(): Promise<DeadLetter[]> {
    const byId = new Map<string, DeadLetter>()
    for (const r of await readAll()) {
      const id = header(r.headers, H.id)
      if (!id) continue
      if (header(r.headers, H.kind) === 'redriven') {
        const letter = byId.get(id)
        if (letter) letter.redrivenAt = header(r.headers, H.at) ?? new Date().toISOString()
        continue
      }
      if (header(r.headers, H.kind) === 'seen') {
        const letter = byId.get(id)
        if (letter) letter.count += 1
        continue
      }
      const raw = r.value ?? Buffer.alloc(0)
      byId.set(id, {
        id,
        at: header(r.headers, H.at) ?? '',
        reason: header(r.headers, H.reason) ?? '',
        origin: JSON.parse(header(r.headers, H.origin) ?? '{}') as Record<string, unknown>,
        key: r.key === null ? null : r.key.toString('utf8'),
        raw,
        redrivenAt: null,
        contentHash: header(r.headers, H.hash) ?? '',
        rawSize: Number(header(r.headers, H.size) ?? raw.length),
        count: 1,
      })
    }
    return [...byId.values()]
  }

  // Pending letters by (tenant, resource, content), for dedupe: read from the topic once, then kept
  // up to date by this process's own puts. Another process's letter put since is not known here,
  // so two processes may each store a copy once; within a process a repeat is one letter.
  let pendingByContent: Map<string, DeadLetter> | null = null
  const pending = async (): Promise<Map<string, DeadLetter>> => {
    if (!pendingByContent) {
      pendingByContent = new Map((await letters()).filter((l) => l.redrivenAt === null && l.contentHash).map((l) => [scopeOf(l), l]))
    }
    return pendingByContent
  }

  return {
    async put(letter) {
      const p = prepareLetter(letter)
      const index = await pending()
      const existing = index.get(scopeOf({ key: letter.key, origin: letter.origin, contentHash: p.contentHash }))
      if (existing) {
        await producer.send({ topic, acks: -1, messages: [{ key: null, value: null, headers: { [H.kind]: 'seen', [H.id]: existing.id, [H.at]: new Date().toISOString() } }] })
        existing.count += 1
        return { ...existing }
      }
      const stored: DeadLetter = {
        reason: letter.reason,
        origin: letter.origin,
        key: letter.key,
        raw: p.raw,
        id: randomUUID(),
        at: new Date().toISOString(),
        redrivenAt: null,
        contentHash: p.contentHash,
        rawSize: p.rawSize,
        count: 1,
      }
      await producer.send({
        topic,
        acks: -1,
        messages: [{
          key: letter.key,
          value: p.raw,
          headers: {
            [H.kind]: 'letter',
            [H.id]: stored.id,
            [H.at]: stored.at,
            [H.reason]: letter.reason,
            [H.origin]: JSON.stringify(letter.origin),
            [H.hash]: p.contentHash,
            [H.size]: String(p.rawSize),
          },
        }],
      })
      index.set(scopeOf(stored), { ...stored })
      return stored
    },

    async list(listOptions = {}) {
      return filterLetters((await letters()).reverse(), listOptions) // newest first, like the SQL store
    },

    async markRedriven(id) {
      if (!(await letters()).some((l) => l.id === id)) throw new DeadLetterNotFoundError(id)
      if (pendingByContent) for (const [k, l] of pendingByContent) if (l.id === id) pendingByContent.delete(k)
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: null, value: null, headers: { [H.kind]: 'redriven', [H.id]: id, [H.at]: new Date().toISOString() } }],
      })
    },

    async close() {
      await producer.disconnect()
    },
  }
}

function header(headers: IHeaders, name: string): string | undefined {
  const value = headers[name]
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : String(first)
}
