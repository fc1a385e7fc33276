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
import type { KomboClient, KomboListPage } from './kombo/client.ts'
import type { SyncStateStore } from './sync-state/port.ts'
import type { PublishedFilter } from './recently-published.ts'
import { komboRecordSchemas } from '../schemas/kombo.ts'
import { sanitiseRecord, type SanitiseLimits } from './sanitise-record.ts'
import { KomboPagingError } from './kombo/errors.ts'
import type { NewDeadLetter } from './changelog/port.ts'

/**
 * How far before the watermark each poll starts reading. Kombo's `updated_after` is strictly
 * "after", and Kombo's sync may write records with an instant at or slightly before one we have
 * already seen while we page (its clock stamps a change when noticed, not when committed). One
 * minute of re-reading is cheap (idempotent downstream) and covers that window.
 */
export const DEFAULT_WATERMARK_OVERLAP_MS = 60_000
/**
 * Kombo's largest page (its default is 100). Against the real API each request costs a network
 * round trip, so a poll's pages in a row are what an initial sync cannot go below: 250 per page
 * reads a 10k company in 40 requests instead of 100 (bench `kombo-latency`: Kombo answering after
 * 300 ms, 10k employees).
 */
export const DEFAULT_PAGE_SIZE = 250
/**
 * How far past the poll's own start a record's `changed_at` may lie and still move the watermark.
 * Kombo's clock and ours differ a little; a record stamped further ahead (a broken clock upstream)
 * is published but must not move the watermark, or every change stamped before it would never be
 * read again. Kept below the overlap, so the overlap re-read covers it.
 */
export const DEFAULT_FUTURE_TOLERANCE_MS = 30_000
/** Pages one poll follows at most: a cursor that never ends must not poll forever. */
export const DEFAULT_MAX_PAGES_PER_POLL = 10_000

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
  recentlyPublished?: PublishedFilter
  /** See DEFAULT_FUTURE_TOLERANCE_MS. */
  futureToleranceMs?: number
  /** See DEFAULT_MAX_PAGES_PER_POLL; past it the poll fails (KomboPagingError) and advances nothing. */
  maxPagesPerPoll?: number
  /** Bounds of a record accepted at the poller's edge (producers/sanitise-record.ts). */
  recordLimits?: SanitiseLimits
  /**
   * Where a record rejected at the edge goes (NUL in its id, nested too deep, too big). Must resolve
   * once stored. Without it such records are only counted (`rejected`).
   */
  deadLetter?: (letter: NewDeadLetter) => Promise<void>
  /**
   * A full listing (the periodic reconcile): no `updated_after`, so records the incremental polls
   * missed (e.g. stamped before the watermark) are read again; only versions not already published
   * are published.
   */
  full?: boolean
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
  /** Records rejected at the edge (dead-lettered when a `deadLetter` sink was given). */
  rejected: number
  /** Records stamped more than the tolerance after the poll started: published, but not moving the watermark. */
  future: number
  /** How far (seconds) the latest `changed_at` read lay after the poll's start; 0 when none did. */
  clockSkewSeconds: number
  /** True for a full listing (`full`). */
  full: boolean
}

export async function pollResource(o: PollResourceOptions): Promise<PollResourceResult> {
  const now = o.now ?? (() => new Date())
  const overlapMs = o.overlapMs ?? DEFAULT_WATERMARK_OVERLAP_MS
  const maxPages = o.maxPagesPerPoll ?? DEFAULT_MAX_PAGES_PER_POLL
  const full = o.full ?? false
  const startedAt = now().getTime()
  const latestAcceptable = startedAt + (o.futureToleranceMs ?? DEFAULT_FUTURE_TOLERANCE_MS)
  const schema = komboRecordSchemas[o.resource]
  const before = await o.syncState.get(o.tenant, o.resource)
  const oldWatermark = before?.watermark ?? null
  await o.syncState.recordPollStarted(o.tenant, o.resource)

  const updatedAfter = oldWatermark === null || full ? undefined : readFrom(oldWatermark, overlapMs)
  let cursor: string | undefined
  const cursorsSeen = new Set<string>()
  let records = 0
  let skipped = 0
  let pages = 0
  let rejected = 0
  let future = 0
  let latestSeen = Number.NEGATIVE_INFINITY
  let greatest = null as { at: number; text: string } | null
  const context = { integrationId: o.integrationId, resource: o.resource, tenant: o.tenant, status: null }
  const stopped = () => ({ records, skipped, pages, watermark: oldWatermark, completed: false, rejected, future, clockSkewSeconds: 0, full })

  /** One page: edge checks, the hand-off to the change log, and what it says for the watermark. */
  const handOn = async (page: KomboListPage): Promise<{ published: number; skipped: number; rejected: number }> => {
    const fetchedAt = now().toISOString()
    const accepted: unknown[] = []
    let refused = 0
    for (const received of page.results) {
      const clean = sanitiseRecord(received, o.recordLimits)
      if (clean.ok) {
        accepted.push(clean.record)
        continue
      }
      refused += 1
      await o.deadLetter?.(edgeDeadLetter(o, received, clean.reason))
    }
    const fresh = o.recentlyPublished ? accepted.filter((record) => !o.recentlyPublished!.has(record)) : accepted
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
    for (const record of accepted) {
      const stamp = changedAt(record)
      if (stamp === null) continue
      latestSeen = Math.max(latestSeen, stamp.at)
      // Only a record that was understood moves the watermark: one the processor dead-letters
      // (schema-invalid) may carry any date, and must not hide the changes stamped before it.
      if (!schema.safeParse(record).success) continue
      if (stamp.at > latestAcceptable) {
        future += 1
        continue
      }
      greatest = later(greatest, stamp)
    }
    return { published: envelopes.length, skipped: accepted.length - fresh.length, rejected: refused }
  }

  // The next page is requested as soon as this one names it, and read while this one is handed on:
  // a poll takes about max(Kombo's answer, the hand-off) per page instead of their sum. Still one
  // request at a time, pages handed on one at a time and in order; a page that would loop, pass
  // maxPages or follow a stop is never requested, so those end the poll as before.
  const fetchPage = (pageCursor: string | undefined) =>
    o.client.listPage(o.integrationId, o.resource, {
      updatedAfter,
      cursor: pageCursor,
      pageSize: o.pageSize ?? DEFAULT_PAGE_SIZE,
      includeDeleted: true,
      tenant: o.tenant,
      signal: o.signal,
    })
  let ahead: Promise<KomboListPage> | null = fetchPage(undefined)
  try {
    while (ahead) {
      const page: KomboListPage = await ahead
      ahead = null
      const next = page.next ?? undefined
      const loops = next !== undefined && (cursorsSeen.has(next) || next === cursor)
      if (next !== undefined && !loops && pages + 1 < maxPages && !o.signal?.aborted) ahead = fetchPage(next)
      const handed = await handOn(page)
      records += handed.published
      skipped += handed.skipped
      rejected += handed.rejected
      pages += 1
      if (next === undefined) break
      if (loops) throw new KomboPagingError(`Kombo sent the cursor of an earlier page again after ${pages} page(s): the pages loop`, context)
      if (pages >= maxPages) throw new KomboPagingError(`more than ${maxPages} pages in one poll (KOMBO_MAX_PAGES_PER_POLL); endless pages?`, context)
      if (o.signal?.aborted) return stopped()
      cursorsSeen.add(next)
      cursor = next
    }
  } finally {
    // A page requested ahead that this poll will not read (it failed or was stopped): its answer,
    // or its error, goes nowhere.
    ahead?.catch(() => {})
  }

  // Never backwards: an overlap re-read (or a clock oddity in Kombo) may only see older records.
  const advanced =
    greatest !== null && (oldWatermark === null || greatest.at > Date.parse(oldWatermark)) ? greatest.text : oldWatermark
  const clockSkewSeconds = latestSeen > startedAt ? (latestSeen - startedAt) / 1000 : 0
  await o.syncState.recordPollSucceeded(o.tenant, o.resource, advanced === oldWatermark ? null : advanced, {
    clockSkewSeconds,
    fullListingStartedAt: full || updatedAfter === undefined ? new Date(startedAt).toISOString() : undefined,
  })
  if (advanced !== null) o.recentlyPublished?.forgetChangedBefore(Date.parse(advanced) - overlapMs)
  return { records, skipped, pages, watermark: advanced, completed: true, rejected, future, clockSkewSeconds, full }
}

/** A record refused at the edge, kept as received (JSON escapes NUL and lone surrogates, so the bytes store). */
function edgeDeadLetter(o: PollResourceOptions, record: unknown, reason: string): NewDeadLetter {
  const json = safeJson(record)
  const contentHash = createHash('sha256').update(json).digest('hex')
  const hash = contentHash.slice(0, 32)
  const id = (record as { id?: unknown } | null)?.id
  const printableId = typeof id === 'string' && id.length > 0 && !/[\u0000\uD800-\uDFFF]/.test(id) ? id : `invalid-${hash}`
  return {
    reason: `rejected at the poller: ${o.resource} record ${printableId.slice(0, 200)}: ${reason}`,
    origin: { poll: o.pollId, tenant: o.tenant, resource: o.resource, stage: 'poller' },
    key: `${o.tenant}:${printableId.slice(0, 200)}`,
    raw: Buffer.from(json, 'utf8'),
    contentHash,
  }
}

/** JSON of a record of any depth: JSON.stringify overflows the stack on very deep input, so levels past 64 are cut. */
function safeJson(record: unknown): string {
  const cut = (value: unknown, depth: number): unknown => {
    if (typeof value !== 'object' || value === null) return value
    if (depth >= 64) return '[nested deeper: cut]'
    if (Array.isArray(value)) return value.map((v) => cut(v, depth + 1))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cut(v, depth + 1)]))
  }
  return JSON.stringify(cut(record, 0)) ?? 'null'
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
