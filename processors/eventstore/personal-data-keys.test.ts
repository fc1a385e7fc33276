import t, { type Test } from 'tap'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import type { SqlDatabase } from '../../sql/database.ts'
import { keyCache, keyFromBase64, openSqlPersonalDataKeys, type KeyState } from './personal-data-keys.ts'

const owner = (employeeId: string) => ({ tenant: 'acme', employeeId })
const keyOf = (state: KeyState | undefined) => (state?.kind === 'key' ? state.key.toString('base64') : state?.kind)

async function counted(t: Test) {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const reads: string[][] = []
  const counting: SqlDatabase = {
    ...db,
    query: (text, params) => {
      if (text.startsWith('SELECT stream, key')) reads.push(params![0] as string[])
      return db.query(text, params)
    },
  }
  return { db: counting, reads }
}

t.test('the key cache is bounded by count and by bytes, and expires', async (t) => {
  let clock = 0
  const byCount = keyCache(1_000, { maxEntries: 2, maxBytes: 1 << 20 }, () => clock)
  const state: KeyState = { kind: 'key', key: Buffer.alloc(32, 1) }
  for (const s of ['a', 'b', 'c']) byCount.remember(s, state)
  t.same(['a', 'b', 'c'].map((s) => byCount.cached(s) !== undefined), [false, true, true], 'the oldest key went at the third')
  const byBytes = keyCache(1_000, { maxEntries: 1_000, maxBytes: 1_000 }, () => clock)
  for (let i = 0; i < 100; i++) byBytes.remember(`employees-acme-${i}`, state)
  t.ok(byBytes.cache.size < 10 && byBytes.cache.bytes <= 1_000, `${byBytes.cache.size} keys in ${byBytes.cache.bytes} bytes`)
  clock = 1_001
  t.equal(byCount.cached('c'), undefined, 'older than cacheMs: asked again')
  t.equal(byCount.cache.size, 1, 'and the expired entry no longer takes room')
})

t.test('a key evicted from the cache is read again: the same key, and an erasure stays an erasure', async (t) => {
  const { db, reads } = await counted(t)
  const keys = await openSqlPersonalDataKeys(db, { cacheLimits: { maxEntries: 2, maxBytes: 1 << 20 } })
  const streams = ['e-1', 'e-2', 'e-3'].map((id) => ({ stream: `employees-acme-${id}`, owner: owner(id) }))
  const first = await keys.keysFor(streams)
  await keys.erase('employees-acme-e-2', owner('e-2'))
  reads.length = 0
  const again = await keys.keysFor(streams)
  t.ok(reads.flat().includes('employees-acme-e-1'), 'e-1 had been evicted and was read again')
  t.equal(keyOf(again.get('employees-acme-e-1')), keyOf(first.get('employees-acme-e-1')), 'the same key as before, not a new one')
  t.equal(again.get('employees-acme-e-2')?.kind, 'erased')
  reads.length = 0
  const evictedErased = await openSqlPersonalDataKeys(db, { cacheLimits: { maxEntries: 0, maxBytes: 0 } })
  t.equal((await evictedErased.keyFor('employees-acme-e-2', owner('e-2'))).kind, 'erased', 'with nothing cached the erasure is read, and no key is made')
  t.equal((await evictedErased.statesOf(['employees-acme-e-3'])).get('employees-acme-e-3')?.kind, 'key')
  t.ok(reads.length >= 2, 'both answers came from the database')
})

t.test('a key read from the database owns its memory: no pooled slab is kept alive by the cache', async (t) => {
  const base64 = Buffer.alloc(32, 7).toString('base64')
  t.ok(Buffer.from(base64, 'base64').buffer.byteLength > 32, 'a plain decode is a slice of the shared pool (what was cached before)')
  const key = keyFromBase64(base64)
  t.equal(key.buffer.byteLength, 32, 'its own 32-byte ArrayBuffer')
  t.equal(key.toString('base64'), base64, 'the same key')
  const { db } = await counted(t)
  const keys = await openSqlPersonalDataKeys(db)
  const made = await keys.keysFor([{ stream: 'employees-acme-e-9', owner: owner('e-9') }])
  const again = await (await openSqlPersonalDataKeys(db)).statesOf(['employees-acme-e-9'])
  for (const state of [made.get('employees-acme-e-9'), again.get('employees-acme-e-9')]) {
    t.equal(state?.kind === 'key' ? state.key.buffer.byteLength : -1, 32, 'made or read, the key has its own buffer')
  }
})
