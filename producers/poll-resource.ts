// One incremental poll of one Kombo resource for one tenant: read from the watermark, follow
// `next` to the end, hand every page on, and only then advance the watermark.
//
// Why it cannot lose a record: the watermark moves only after the last page was handed on (and
// `publish` resolves only when the change log stored the page). A poll that fails or is stopped
// halfway advances nothing, so the next poll re-reads from the old watermark; downstream folding is
// idempotent, so records read twice cost only work.
import { createHash } from 'node:crypto'
import type { ChangeEnvelope } from '../schemas/envelope.ts'
import type { KomboResource } from '../schemas/kombo.ts'
import type { KomboClient } from './kombo/client.ts'
import type { SyncStateStore } from './sync-state/port.ts'
import type { RecentlyPublished } from './recently-published.ts'

/**
 * How far before the watermark each poll starts reading. Kombo's `updated_after` is strictly
 * "after", and Kombo's sync may write records with an instant at or slightly before one we have
 * already seen while we page (its clock stamps a change when noticed, not when committed). One
 * minute of re-reading is cheap (idempotent downstream) and covers that window.
 */
export const DEFAULT_WATERMARK_OVERLAP_MS = 60_000
export const DEFAULT_PAGE_SIZE = 100

export interface PollResourceOptions {
  client: Pick<KomboClient, 'listPage'>
  tenant: string
  integrationId: string
  resource: KomboResource
  syncState: SyncStateStore
  /** Must resolve only once the envelopes are durably stored (the change log's `publish`). */
  publish: (envelopes: ChangeEnvelope[]) => Promise<void>
  pageSize?: number
  pollId: string
  now?: () => Date
  overlapMs?: number
  /**
   * Checked before each page after the first: when aborted, the poll ends without advancing the
   * watermark. Also cuts a retry wait short (the poll then throws KomboUnavailableError).
   */
  signal?: AbortSignal
  /**
   * The versions this poller already published: exact repeats (the overlap re-read) are not
   * published again. Without it every record read is published.
   */
  recentlyPublished?: RecentlyPublished
}

export interface PollResourceResult {
  /** Records published. */
  records: number
  /** Records read again unchanged within the overlap and not published again. */
  skipped: number
  pages: number
  /** The watermark after this poll (unchanged when the poll did not complete). */
  watermark: string | null
  /** False when the poll was stopped by `signal` before its last page. */
  completed: boolean
}

export async function pollResource(o: PollResourceOptions): Promise<PollResourceResult> {
  const now = o.now ?? (() => new Date())
  const overlapMs = o.overlapMs ?? DEFAULT_WATERMARK_OVERLAP_MS
  const before = await o.syncState.get(o.tenant, o.resource)
  const oldWatermark = before?.watermark ?? null
  await o.syncState.recordPollStarted(o.tenant, o.resource)

  const updatedAfter = oldWatermark === null ? undefined : readFrom(oldWatermark, overlapMs)
  let cursor: string | undefined
  let records = 0
  let skipped = 0
  let pages = 0
  let greatest: { at: number; text: string } | null = null

  do {
    if (pages > 0 && o.signal?.aborted) return { records, skipped, pages, watermark: oldWatermark, completed: false }
    const page = await o.client.listPage(o.integrationId, o.resource, {
      updatedAfter,
      cursor,
      pageSize: o.pageSize ?? DEFAULT_PAGE_SIZE,
      includeDeleted: true,
      tenant: o.tenant,
      signal: o.signal,
    })
    const fetchedAt = now().toISOString()
    const fresh = o.recentlyPublished ? page.results.filter((record) => !o.recentlyPublished!.has(record)) : page.results
    skipped += page.results.length - fresh.length
    const envelopes = fresh.map((record) => ({
      tenant: o.tenant,
      integrationId: o.integrationId,
      resource: o.resource,
      fetchedAt,
      pollId: o.pollId,
      record: asEnvelopeRecord(record),
    }))
    if (envelopes.length > 0) await o.publish(envelopes)
    o.recentlyPublished?.remember(fresh)
    await o.syncState.recordPageHandedOn(o.tenant, o.resource, envelopes.length)
    for (const record of page.results) greatest = later(greatest, changedAt(record))
    records += envelopes.length
    pages += 1
    cursor = page.next ?? undefined
  } while (cursor)

  // Never backwards: an overlap re-read (or a clock oddity in Kombo) may only see older records.
  const advanced =
    greatest !== null && (oldWatermark === null || greatest.at > Date.parse(oldWatermark)) ? greatest.text : oldWatermark
  await o.syncState.recordPollSucceeded(o.tenant, o.resource, advanced === oldWatermark ? null : advanced)
  if (advanced !== null) o.recentlyPublished?.forgetChangedBefore(Date.parse(advanced) - overlapMs)
  return { records, skipped, pages, watermark: advanced, completed: true }
}

function readFrom(watermark: string, overlapMs: number): string | undefined {
  const at = Date.parse(watermark)
  // An unreadable stored watermark must not silently skip data: read everything instead.
  return Number.isNaN(at) ? undefined : new Date(at - overlapMs).toISOString()
}

function changedAt(record: unknown): { at: number; text: string } | null {
  const text = (record as { changed_at?: unknown } | null)?.changed_at
  if (typeof text !== 'string') return null
  const at = Date.parse(text)
  return Number.isNaN(at) ? null : { at, text }
}

function later(a: { at: number; text: string } | null, b: { at: number; text: string } | null) {
  if (a === null) return b
  if (b === null) return a
  return b.at > a.at ? b : a
}

/**
 * The record as received, except that a record without a string id cannot be keyed: it is wrapped
 * under a content-hash id so it still reaches the change log and the processor dead-letters it
 * (the wrapper has no `changed_at`, so it can never pass the resource schema by accident).
 */
export function asEnvelopeRecord(record: unknown): ChangeEnvelope['record'] {
  const id = (record as { id?: unknown } | null)?.id
  if (typeof record === 'object' && record !== null && !Array.isArray(record) && typeof id === 'string' && id.length > 0) {
    return record as ChangeEnvelope['record']
  }
  const hash = createHash('sha256').update(JSON.stringify(record) ?? 'undefined').digest('hex').slice(0, 32)
  return { id: `invalid-${hash}`, invalidRecord: record ?? null, reason: 'the record has no string id' }
}
