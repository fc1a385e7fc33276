// The read API's cache of serialised view answers: it serves repeated questions without reading
// the views, and stops serving an answer once any process commits a change to that tenant's views
// (the generation bumped by the view tables' triggers) — a writer in another OS process here.
import t from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { openSqlViewStore, type SqlViewStore } from '../projections/viewstore/sql.ts'
import { purgeUserFromViews } from '../projections/viewstore/erase-user.ts'
import type { LearnAmpUser } from '../schemas/learnamp.ts'
import { aLearnAmpUser } from '../test/support/learn-amp-user.ts'
import { openPostgresDatabase } from '../sql/postgres.ts'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { testPostgresUrl } from '../test/support/postgres.ts'
import { waitFor } from '../test/support/wait-for.ts'
import { cachedViewResponses } from './view-cache.ts'

const user = (externalId: string, jobTitle: string): LearnAmpUser => aLearnAmpUser(externalId, { jobTitle })
const index = { teamIds: [], locationId: null, managerId: null }
const upsert = (store: SqlViewStore, tenant: string, u: LearnAmpUser) => store.transaction((tx) => tx.upsertUsers(tenant, [{ user: u, index }]))

/** The store with its reads counted: what the cache did not answer itself. */
function counted(store: SqlViewStore) {
  const reads = { n: 0 }
  const wrapped: SqlViewStore = {
    ...store,
    getUser: (tenant, id) => (reads.n++, store.getUser(tenant, id)),
    listUsers: (tenant, q) => (reads.n++, store.listUsers(tenant, q)),
  }
  return { wrapped, reads }
}

const jobTitleOf = async (json: Promise<{ json: string } | null>) => {
  const r = await json
  return r === null ? null : (JSON.parse(r.json) as LearnAmpUser).jobTitle
}

// Writes one user's job title into the views from a separate Node process, as a projector role would.
function writeFromAnotherProcess(databaseUrl: string, tenant: string, id: string, jobTitle: string): Promise<void> {
  const script = `
    import { openPostgresDatabase } from './sql/postgres.ts'
    import { openSqlViewStore } from './projections/viewstore/sql.ts'
    const db = await openPostgresDatabase(process.env.URL)
    const views = await openSqlViewStore(db)
    const doc = JSON.parse(process.env.DOC)
    await views.transaction((tx) => tx.upsertUsers(process.env.TENANT, [{ user: doc, index: { teamIds: [], locationId: null, managerId: null } }]))
    await db.close()`
  const cwd = fileURLToPath(new URL('..', import.meta.url))
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd, env: { ...process.env, URL: databaseUrl, TENANT: tenant, DOC: JSON.stringify(user(id, jobTitle)) } }, (err, _out, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(),
    ),
  )
}

t.test('PostgreSQL: cached answers are served until another process commits a change, then the change is served', async (t) => {
  const url = await testPostgresUrl(t)
  const db = await openPostgresDatabase(url)
  t.teardown(() => db.close())
  const store = await openSqlViewStore(db)
  await upsert(store, 'acme', user('ada', 'Engineer'))
  await upsert(store, 'globex', user('ada', 'Globex engineer'))
  const { wrapped, reads } = counted(store)
  // A request that finds the last refresh older than three refreshes (a busy machine) waits for a
  // fresh one rather than reading the views, so the 50 reads stay cached however slow the machine.
  const responses = cachedViewResponses(wrapped, { refreshMs: 250 })
  t.teardown(() => responses.close())
  await waitFor('the first read of the generations', async () => (await responses.getUser('acme', 'ada'), reads.n > 0 && (reads.n = 0, true)))
  await responses.getUser('acme', 'ada')

  const before = reads.n
  for (let i = 0; i < 50; i++) t.equal(await jobTitleOf(responses.getUser('acme', 'ada')), 'Engineer')
  t.ok(reads.n - before <= 2, `50 repeated reads answered from the cache (${reads.n - before} reached the views)`)
  t.equal(await jobTitleOf(responses.getUser('globex', 'ada')), 'Globex engineer', 'tenants are cached apart')
  t.equal(await responses.getUser('acme', 'nobody'), null, 'an unknown user is null (a 404)')

  await writeFromAnotherProcess(url, 'acme', 'ada', 'Principal engineer')
  await waitFor('the other process’s change', async () => (await jobTitleOf(responses.getUser('acme', 'ada'))) === 'Principal engineer')
  t.equal(await jobTitleOf(responses.getUser('globex', 'ada')), 'Globex engineer', "another tenant's answer is unchanged")

  await writeFromAnotherProcess(url, 'acme', 'nobody', 'New hire')
  await waitFor('a user created elsewhere (a cached 404 is not kept)', async () => (await jobTitleOf(responses.getUser('acme', 'nobody'))) === 'New hire')

  // An erasure purges the row in its own transaction: the cached document must go too.
  const other = await openPostgresDatabase(url)
  t.teardown(() => other.close())
  await purgeUserFromViews(other, 'acme', 'ada')
  await waitFor('the erased user to be gone', async () => (await responses.getUser('acme', 'ada')) === null)

  const page = JSON.parse((await responses.listUsers('acme', { limit: 10 })).json) as { data: LearnAmpUser[] }
  t.same(page.data.map((u) => u.externalId), ['nobody'], 'pages are served from the views too')
  responses.close() // before the database closes under its refresh timer
})

t.test('a commit through the same store object is seen at once, without waiting for a refresh', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlViewStore(db)
  await upsert(store, 'acme', user('ada', 'Engineer'))
  // A refresh far in the future: only the commit notification can make the change visible.
  const responses = cachedViewResponses(store, { refreshMs: 60_000 })
  t.teardown(() => responses.close())
  await waitFor('the first read of the generations', async () => (await jobTitleOf(responses.getUser('acme', 'ada'))) === 'Engineer')
  await upsert(store, 'acme', user('ada', 'Manager'))
  t.equal(await jobTitleOf(responses.getUser('acme', 'ada')), 'Manager', 'the very next read after the commit')
  responses.close()
})

t.test('without readable generations the cache is bypassed; entries are bounded', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlViewStore(db)
  for (const id of ['a', 'b', 'c', 'd', 'e']) await upsert(store, 'acme', user(id, 'Engineer'))
  const { wrapped, reads } = counted(store)

  let failing = false
  const flaky: SqlViewStore = { ...wrapped, generations: async () => (failing ? Promise.reject(new Error('connection lost')) : store.generations()) }
  const responses = cachedViewResponses(flaky, { refreshMs: 10, maxEntries: 2 })
  t.teardown(() => responses.close())
  await waitFor('the cache to serve', async () => {
    const n = reads.n
    await responses.getUser('acme', 'a')
    return reads.n === n
  })

  for (const id of ['a', 'b', 'c', 'a']) await responses.getUser('acme', id)
  const n = reads.n
  await responses.getUser('acme', 'a')
  await responses.getUser('acme', 'c')
  t.equal(reads.n, n, 'the two most recent answers are kept')
  await responses.getUser('acme', 'b')
  t.equal(reads.n, n + 1, 'an older one was evicted (2 entries at most)')

  failing = true
  await waitFor('the cache to turn itself off', async () => {
    const m = reads.n
    await responses.getUser('acme', 'c')
    return reads.n === m + 1
  })
  const m = reads.n
  for (let i = 0; i < 5; i++) await responses.getUser('acme', 'c')
  t.equal(reads.n, m + 5, 'every read reaches the views while the generations cannot be read')
  responses.close()
})

t.test('a request that finds the generations older than maxStaleMs waits for a fresh read, not for the views', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlViewStore(db)
  await upsert(store, 'acme', user('ada', 'Engineer'))
  const { wrapped, reads } = counted(store)
  const generationReads = { n: 0 }
  const watched: SqlViewStore = { ...wrapped, onCommit: undefined, generations: () => (generationReads.n++, store.generations()) }
  // No timer to speak of, and nothing older than 0 ms is fresh: every request needs a fresh read of
  // the generations — the state of a cache whose refresh fell behind under load.
  const responses = cachedViewResponses(watched, { refreshMs: 60_000, maxStaleMs: 0 })
  t.teardown(() => responses.close())
  t.equal(await jobTitleOf(responses.getUser('acme', 'ada')), 'Engineer')
  const viewReads = reads.n
  const before = generationReads.n
  for (let i = 0; i < 20; i++) t.equal(await jobTitleOf(responses.getUser('acme', 'ada')), 'Engineer')
  t.equal(reads.n, viewReads, '20 requests with stale generations: none read the views')
  t.ok(generationReads.n - before >= 20, `each waited for a fresh read of the generations (${generationReads.n - before})`)

  // A write that this cache object is not told about (as from another process): the next request's
  // fresh read of the generations sees it.
  await db.transaction(async (tx) => {
    await tx.query(`UPDATE view_users SET doc = jsonb_set(doc, '{jobTitle}', '"Manager"') WHERE tenant = 'acme' AND external_id = 'ada'`)
  })
  t.equal(await jobTitleOf(responses.getUser('acme', 'ada')), 'Manager', 'the very next request serves the change')
  responses.close()
})

t.test('concurrent misses on one answer share one read of the views', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlViewStore(db)
  await upsert(store, 'acme', user('ada', 'Engineer'))
  const { wrapped, reads } = counted(store)
  const responses = cachedViewResponses(wrapped, { refreshMs: 60_000, maxStaleMs: 60_000 })
  t.teardown(() => responses.close())
  const titles = await Promise.all(Array.from({ length: 32 }, () => jobTitleOf(responses.getUser('acme', 'ada'))))
  t.same(new Set(titles), new Set(['Engineer']), 'every request got the answer')
  t.equal(reads.n, 1, '32 concurrent requests, one read')
  const pages = await Promise.all(Array.from({ length: 8 }, () => responses.listUsers('acme', { limit: 10 })))
  t.equal(new Set(pages.map((p) => p.json)).size, 1)
  t.equal(reads.n, 2, 'and one read for 8 concurrent page requests')
  t.equal(await jobTitleOf(responses.getUser('globex', 'ada')), null, 'another tenant is another answer (not shared)')
  t.equal(reads.n, 3)
  responses.close()
})

t.test('the cache never holds more than its bounds, by chars and by entries, however many answers pass through it', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlViewStore(db)
  const ids = Array.from({ length: 300 }, (_, i) => `u${String(i).padStart(4, '0')}`)
  await store.transaction((tx) => tx.upsertUsers('acme', ids.map((id) => ({ user: user(id, 'Engineer'), index }))))
  const maxChars = 40_000
  const maxEntries = 60
  const responses = cachedViewResponses(store, { refreshMs: 10, maxEntries, maxChars })
  t.teardown(() => responses.close())
  await waitFor('the cache to serve', async () => {
    await responses.getUser('acme', ids[0])
    return responses.held!().entries > 0
  })
  let most = { entries: 0, chars: 0 }
  const check = () => {
    const held = responses.held!()
    most = { entries: Math.max(most.entries, held.entries), chars: Math.max(most.chars, held.chars) }
    return held.entries <= maxEntries && held.chars <= maxChars
  }
  let within = true
  // A full listing page by page (a page of 20 users is ~11k chars: at most 3 fit), then every user by id, twice.
  for (let round = 0; round < 2; round++) {
    let cursor: string | undefined
    do {
      const page = JSON.parse((await responses.listUsers('acme', { limit: 20, cursor })).json) as { next: string | null }
      within &&= check()
      cursor = page.next ?? undefined
    } while (cursor)
    for (const id of ids) {
      await responses.getUser('acme', id)
      within &&= check()
    }
    await responses.getUser('acme', 'nobody')
    within &&= check()
  }
  t.ok(within, `within ${maxEntries} entries and ${maxChars} chars after every answer`)
  t.ok(most.chars > maxChars / 2, `it filled up to its byte bound (${most.chars} chars at most)`)
  t.equal(most.entries, maxEntries, 'and up to its entry bound (the answers by id are small)')
})
