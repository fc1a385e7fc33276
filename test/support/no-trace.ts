// Where a leaked field could end up, as text to search: every table of the service's database
// (change log, event store, views, dead letters, sync state, feed checkpoints …), the event store
// as the service reads it (decrypted), and everything the read API serves.
import type { RunningService } from '../../runtime/service.ts'
import { apiClient } from './e2e-story.ts'

/** Bytes as text (a JSON payload stored as bytea must be searchable too). */
const replacer = (_key: string, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : typeof value === 'bigint' ? String(value) : value)

/** Every row of every table outside the system schemas, table by table. */
export async function databaseDump(service: RunningService): Promise<Record<string, string>> {
  const { rows: tables } = await service.stores.db.query<{ table_schema: string; table_name: string }>(
    `SELECT table_schema, table_name FROM information_schema.tables
      WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`,
  )
  const dump: Record<string, string> = {}
  for (const { table_schema, table_name } of tables) {
    const { rows } = await service.stores.db.query(`SELECT * FROM "${table_schema}"."${table_name}"`)
    dump[`${table_schema}.${table_name}`] = JSON.stringify(rows, replacer)
  }
  return dump
}

/** The event store read through the service (personal data decrypted), events and metadata. */
export async function eventStoreText(service: RunningService): Promise<string> {
  const events = await service.stores.eventStore.readAll({ maxCount: 1_000_000 })
  return JSON.stringify(events.map((e) => [e.streamName, e.type, e.data, e.metadata]), replacer)
}

/** Every user (list and detail) and each user's history, as the read API serves them. */
export async function apiText(service: RunningService, ids: readonly string[]): Promise<string> {
  const api = apiClient(service)
  const parts: unknown[] = [await api.allUsers()]
  for (const id of ids) parts.push(await api.user(id), (await api.get(`/users/${id}/history`)).body)
  for (const path of ['/teams', '/locations', '/sync']) parts.push((await api.get(path)).body)
  return JSON.stringify(parts)
}

/**
 * Every message (key and value, as bytes read as text: the registry's JSON encoding keeps the JSON
 * readable after its 5-byte header) of every topic whose name starts with `prefix`.
 */
export async function kafkaTopicsText(brokers: string[], prefix: string): Promise<{ topics: string[]; text: string }> {
  const { Kafka, logLevel } = await import('kafkajs')
  const kafka = new Kafka({ brokers, clientId: 'no-trace-search', logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const topics = (await admin.listTopics()).filter((name) => name.startsWith(prefix))
  let expected = 0
  for (const topic of topics) for (const p of await admin.fetchTopicOffsets(topic)) expected += Number(p.high) - Number(p.low)
  await admin.disconnect()
  const consumer = kafka.consumer({ groupId: `no-trace-${Date.now()}-${Math.random().toString(36).slice(2)}` })
  await consumer.connect()
  await consumer.subscribe({ topics, fromBeginning: true })
  const parts: string[] = []
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${parts.length} of ${expected} messages within 120 s`)), 120_000)
    const done = () => parts.length >= expected && (clearTimeout(timer), resolve())
    consumer.run({ eachMessage: async ({ message }) => void (parts.push(`${message.key?.toString('utf8') ?? ''} ${message.value?.toString('utf8') ?? ''}`), done()) }).catch(reject)
    done()
  })
  await consumer.disconnect()
  return { topics, text: parts.join('\n') }
}
