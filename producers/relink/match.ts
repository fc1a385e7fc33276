// Which record of a reconnected integration is which entity we already have. Kombo's ids are new
// after a reconnect, but the HR system's own id (`remote_id`) is not, and people keep their work
// email: match by remote_id first, then (employees only) by work email, case-insensitively. A key
// two records share on either side proves nothing, so it matches nothing: such records are left
// unmatched (reported) rather than merged into the wrong person. Pure.
import type { MatchedBy } from './relink-store.ts'

export interface ExistingEntity {
  entityId: string
  remoteId: string | null
  workEmail: string | null
}

export interface IncomingRecord {
  komboId: string
  remoteId: string | null
  workEmail: string | null
}

export interface MatchOutcome {
  matches: Array<{ komboId: string; entityId: string; matchedBy: MatchedBy }>
  /** Records of the new integration that matched nobody: they arrive as new entities. */
  unmatchedIncoming: IncomingRecord[]
  /** Existing entities no new record matched: kept as they are. */
  unmatchedExisting: ExistingEntity[]
}

const norm = (v: string | null) => (v === null || v.trim() === '' ? null : v.trim())
const normEmail = (v: string | null) => norm(v)?.toLowerCase() ?? null

/** key → the one item with it; keys held by several items are dropped. */
function uniqueBy<T>(items: readonly T[], key: (item: T) => string | null): Map<string, T> {
  const seen = new Map<string, T | null>()
  for (const item of items) {
    const k = key(item)
    if (k === null) continue
    seen.set(k, seen.has(k) ? null : item)
  }
  return new Map([...seen].filter((e): e is [string, T] => e[1] !== null))
}

export function matchRecords(existing: readonly ExistingEntity[], incoming: readonly IncomingRecord[], options: { byWorkEmail: boolean }): MatchOutcome {
  const matches: MatchOutcome['matches'] = []
  const taken = new Set<string>()
  const linked = new Set<string>()
  const pass = (matchedBy: MatchedBy, keyOfExisting: (e: ExistingEntity) => string | null, keyOfIncoming: (r: IncomingRecord) => string | null) => {
    const existingByKey = uniqueBy(existing.filter((e) => !taken.has(e.entityId)), keyOfExisting)
    const incomingByKey = uniqueBy(incoming.filter((r) => !linked.has(r.komboId)), keyOfIncoming)
    for (const [key, record] of incomingByKey) {
      const entity = existingByKey.get(key)
      if (!entity) continue
      taken.add(entity.entityId)
      linked.add(record.komboId)
      // The same id on both sides (an integration re-bound as it was) needs no alias.
      if (record.komboId !== entity.entityId) matches.push({ komboId: record.komboId, entityId: entity.entityId, matchedBy })
    }
  }
  pass('remote_id', (e) => norm(e.remoteId), (r) => norm(r.remoteId))
  if (options.byWorkEmail) pass('work_email', (e) => normEmail(e.workEmail), (r) => normEmail(r.workEmail))
  return {
    matches,
    unmatchedIncoming: incoming.filter((r) => !linked.has(r.komboId)),
    unmatchedExisting: existing.filter((e) => !taken.has(e.entityId)),
  }
}
