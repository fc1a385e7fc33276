// Data minimisation at the poller: each record Kombo returns is cut down to the fields of the
// tenant's scopes (schemas/data-scopes.ts) the moment it leaves the Kombo client, before anything
// else sees it — the repeat check, the change log, dead letters, logs. Wrapping the client (rather
// than editing the poll loop) keeps the poll loop's job unchanged and makes it impossible to
// publish an unminimised record by forgetting a call.
import type { KomboResource } from '../schemas/kombo.ts'
import { keptFields, type KeptOptionalFields } from '../schemas/data-scopes.ts'
import type { KomboClient } from './kombo/client.ts'

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function pick(source: Record<string, unknown>, fields: Iterable<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const field of fields) if (Object.hasOwn(source, field)) out[field] = source[field]
  return out
}

/**
 * The record with only the kept fields. A value that is not an object is returned as is when it is
 * a scalar (the poller dead-letters it as invalid); a list in place of a record could hold anything,
 * so it becomes null (still dead-lettered as invalid, with nothing personal in it).
 */
export function minimiseRecord(resource: KomboResource, record: unknown, optional?: KeptOptionalFields): unknown {
  if (Array.isArray(record)) return null
  if (!isPlainObject(record)) return record
  const out: Record<string, unknown> = {}
  for (const [field, each] of keptFields(resource, optional)) {
    if (!Object.hasOwn(record, field)) continue
    const value = record[field]
    out[field] = each && Array.isArray(value) ? value.map((item) => (isPlainObject(item) ? pick(item, each) : item)) : value
  }
  return out
}

type PageLister = Pick<KomboClient, 'listPage'>

/** The client, with every record of every page minimised for one tenant's scopes. */
export function minimisingClient(client: PageLister, optional?: KeptOptionalFields): PageLister {
  return {
    listPage: async (integrationId, resource, options) => {
      const page = await client.listPage(integrationId, resource, options)
      return { ...page, results: page.results.map((record) => minimiseRecord(resource, record, optional)) }
    },
  }
}
