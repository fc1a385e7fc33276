// The read API's answers from the views, as JSON text ready to send, with a bounded cache of those
// texts. Reading a view costs a SQL round trip (on PGlite: the database runs on this event loop),
// a jsonb decode and a JSON.stringify; the answer to the same question is the same until the
// tenant's views change. Each cached answer is stamped with the tenant's view generation (bumped
// in the same transaction as any write to the tenant's views, by whichever process writes: see
// projections/viewstore/sql.ts), and only served while that generation is the current one.
//
// The current generations are re-read every `refreshMs` (one small query per API process, not per
// request), so a change committed by another process (a projector role, an operator's erase, a
// rebuild) stops being served from the cache within about `refreshMs`, and never later than
// `maxStaleMs`: a request that finds the last read older than that waits for a fresh one. When the
// generations cannot be read, the cache is bypassed (every request reads the views), so a lost
// database connection cannot leave stale answers being served.
// A change this process makes itself (the projector in `all`, through `onCommit`; an erasure,
// through `changed()`) turns the cache off at once until the generations have been read again.
import type { UserQuery, ViewGenerations, ViewReader } from '../projections/viewstore/port.ts'

/** A JSON text the serializer sends as is (api/app.ts), instead of stringifying a value again. */
export class SerializedJson {
  constructor(readonly json: string) {}
}

export interface ViewResponses {
  listUsers(tenant: string, query: UserQuery): Promise<SerializedJson>
  getUser(tenant: string, externalId: string): Promise<SerializedJson | null>
  listTeams(tenant: string, page: { limit: number; cursor?: string }): Promise<SerializedJson>
  getTeam(tenant: string, id: string): Promise<SerializedJson | null>
  listLocations(tenant: string, page: { limit: number; cursor?: string }): Promise<SerializedJson>
  getLocation(tenant: string, id: string): Promise<SerializedJson | null>
  /** This process changed views: serve nothing cached until the generations are read again. */
  changed(): void
  close(): void
  /** What the cache holds now (entries and JSON chars; zero when uncached): tests check the bounds. */
  held?(): { entries: number; chars: number }
}

export interface ViewCacheOptions {
  /** How often the generations are re-read in the background. */
  refreshMs?: number
  /**
   * The bound on serving another process's stale answer: a cached answer is served only against
   * generations read by a query that started at most this long before the request (default three
   * refreshes); past it the request waits for a fresh read of the generations.
   */
  maxStaleMs?: number
  maxEntries?: number
  /** Bound on the cached JSON texts, in UTF-16 code units (≈ bytes for ASCII JSON, at most 2×). */
  maxChars?: number
}

/**
 * 16 Mi chars (≈ 16 MB: the JSON is ASCII, a one-byte string in V8): the answers a 10k company's
 * full listing leaves behind (50 pages of 200 users, ~17 MB) and no more, whatever the company's
 * size; with 32 Mi the api role held twice that at 100k. A page of 200 users is ~350 KB, a user
 * ~1.7 KB, so this still keeps ~45 such pages or ~9k users' answers (20,000 entries of small
 * answers). The bound holds whatever the company: an evicted answer costs one read of the views.
 */
export const VIEW_CACHE_DEFAULTS = { refreshMs: 100, maxEntries: 20_000, maxChars: 16 * 1024 * 1024 } as const

const toJson = (value: unknown) => (value === null ? null : new SerializedJson(JSON.stringify(value)))

/** Without generations (tests over fakes): every answer is read and serialised, nothing cached. */
export function uncachedViewResponses(views: ViewReader): ViewResponses {
  return {
    listUsers: async (tenant, query) => new SerializedJson(JSON.stringify(await views.listUsers(tenant, query))),
    getUser: async (tenant, id) => toJson(await views.getUser(tenant, id)),
    listTeams: async (tenant, page) => new SerializedJson(JSON.stringify(await views.listTeams(tenant, page))),
    getTeam: async (tenant, id) => toJson(await views.getTeam(tenant, id)),
    listLocations: async (tenant, page) => new SerializedJson(JSON.stringify(await views.listLocations(tenant, page))),
    getLocation: async (tenant, id) => toJson(await views.getLocation(tenant, id)),
    changed: () => {},
    close: () => {},
  }
}

interface Entry {
  generation: bigint
  /** null: the view has no such entity (a 404 is cached like an answer). */
  json: SerializedJson | null
}

export function cachedViewResponses(views: ViewReader & ViewGenerations, options: ViewCacheOptions = {}): ViewResponses {
  const { refreshMs, maxEntries, maxChars } = { ...VIEW_CACHE_DEFAULTS, ...options }
  const maxStaleMs = options.maxStaleMs ?? 3 * refreshMs
  const entries = new Map<string, Entry>()
  // Reads under way by cache key: concurrent misses on one answer share one read of the views
  // (64 connections asking for the page that was just invalidated make one query, not 64).
  const reading = new Map<string, { generation: bigint; json: Promise<SerializedJson | null> }>()
  let chars = 0
  let known = new Map<string, bigint>()
  let knownAt = -Infinity
  // Bumped when this process changed views itself; the cache serves again once a read of the
  // generations that started after the change has succeeded.
  let changeEpoch = 0
  let cleanEpoch = 0
  let refreshing: Promise<boolean> | null = null
  let closed = false

  /** One read of the generations at a time; true when it succeeded. */
  const refresh = (): Promise<boolean> =>
    closed ? Promise.resolve(false) : (refreshing ??= (async () => {
      const startedAt = performance.now()
      const epoch = changeEpoch
      try {
        known = await views.generations()
        knownAt = startedAt
        cleanEpoch = epoch
        return true
      } catch {
        // Left stale on purpose: `currentGenerations()` bypasses the cache until a read succeeds again.
        return false
      } finally {
        refreshing = null
      }
    })())
  const timer = setInterval(() => void refresh(), refreshMs)
  timer.unref()
  void refresh()
  // Commits of this process's own writers (the projector in `all`) are seen at once, not after a refresh.
  const unsubscribe = views.onCommit?.(() => {
    changeEpoch++
    void refresh()
  })

  const freshSince = (since: number) => cleanEpoch === changeEpoch && knownAt >= since
  /**
   * Generations read by a query that started at most `maxStaleMs` before this request arrived, or
   * null (serve from the views). When the timer's last read is older — a busy event loop, a
   * database queue — the request waits for the next read instead of bypassing the cache: one small
   * shared query for every waiting request, where bypassing would send each of them to the views,
   * slow the next refresh further and keep the cache off under exactly the load it is for.
   */
  async function currentGenerations(): Promise<Map<string, bigint> | null> {
    const since = performance.now() - maxStaleMs
    // Twice at most: a read already under way may have started before `since` or before a commit
    // of ours; the one after it started after both.
    for (let i = 0; i < 2 && !freshSince(since); i++) if (!(await refresh())) return null
    return freshSince(since) ? known : null
  }

  // An entry's chars: its JSON and its key (a 404 costs its key: the count bound is not the only one).
  const charsOf = (cacheKey: string, json: SerializedJson | null) => cacheKey.length + (json?.json.length ?? 0)
  const evict = () => {
    for (const [key, entry] of entries) {
      if (entries.size <= maxEntries && chars <= maxChars) return
      entries.delete(key)
      chars -= charsOf(key, entry.json)
    }
  }

  const store = (cacheKey: string, generation: bigint, json: SerializedJson | null) => {
    const current = entries.get(cacheKey)
    if (current) {
      entries.delete(cacheKey)
      chars -= charsOf(cacheKey, current.json)
    }
    const size = charsOf(cacheKey, json)
    // One answer may not take more than a sixteenth of the budget (a huge page is not kept).
    if (size <= maxChars / 16) {
      entries.set(cacheKey, { generation, json })
      chars += size
      evict()
    }
  }

  async function answer(tenant: string, key: string, read: () => Promise<SerializedJson | null>): Promise<SerializedJson | null> {
    const generations = freshSince(performance.now() - maxStaleMs) ? known : await currentGenerations()
    if (!generations) return read()
    // The generation before the read: if a write commits meanwhile, the entry is already stale
    // by its stamp and is replaced on the next request after the refresh that sees it.
    const generation = generations.get(tenant) ?? 0n
    const cacheKey = `${tenant}\u0000${key}`
    const hit = entries.get(cacheKey)
    if (hit && hit.generation === generation) {
      // Most recently used last: eviction walks the map from the oldest.
      entries.delete(cacheKey)
      entries.set(cacheKey, hit)
      return hit.json
    }
    const flight = reading.get(cacheKey)
    if (flight && flight.generation === generation) return flight.json
    const json = read()
    reading.set(cacheKey, { generation, json })
    try {
      const value = await json
      store(cacheKey, generation, value)
      return value
    } finally {
      if (reading.get(cacheKey)?.json === json) reading.delete(cacheKey)
    }
  }

  const always = async (json: Promise<SerializedJson | null>) => (await json) as SerializedJson
  return {
    listUsers: (tenant, query) =>
      always(answer(tenant, `users?${JSON.stringify(query)}`, async () => new SerializedJson(JSON.stringify(await views.listUsers(tenant, query))))),
    getUser: (tenant, id) => answer(tenant, `user/${id}`, async () => toJson(await views.getUser(tenant, id))),
    listTeams: (tenant, page) => always(answer(tenant, `teams?${JSON.stringify(page)}`, async () => new SerializedJson(JSON.stringify(await views.listTeams(tenant, page))))),
    getTeam: (tenant, id) => answer(tenant, `team/${id}`, async () => toJson(await views.getTeam(tenant, id))),
    listLocations: (tenant, page) =>
      always(answer(tenant, `locations?${JSON.stringify(page)}`, async () => new SerializedJson(JSON.stringify(await views.listLocations(tenant, page))))),
    getLocation: (tenant, id) => answer(tenant, `location/${id}`, async () => toJson(await views.getLocation(tenant, id))),
    changed() {
      changeEpoch++
      void refresh()
    },
    close: () => {
      closed = true
      clearInterval(timer)
      unsubscribe?.()
    },
    held: () => ({ entries: entries.size, chars }),
  }
}

/** The cached responses when the view store can report generations, else uncached ones. */
export function viewResponsesOf(views: ViewReader, options?: ViewCacheOptions | false): ViewResponses {
  const withGenerations = typeof (views as Partial<ViewGenerations>).generations === 'function'
  return withGenerations && options !== false ? cachedViewResponses(views as ViewReader & ViewGenerations, options) : uncachedViewResponses(views)
}

