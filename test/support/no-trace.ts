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
