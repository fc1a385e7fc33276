import t from 'tap'
import { BoundedCache, approximateBytes } from './bounded-cache.ts'

t.test('evicts the least recently used entry past the entry limit', async (t) => {
  const cache = new BoundedCache<number>({ maxEntries: 3, maxBytes: 1 << 20 }, () => 8)
  for (const [k, v] of [['a', 1], ['b', 2], ['c', 3]] as const) cache.set(k, v)
  t.equal(cache.get('a'), 1, 'a is now the most recently used')
  t.equal(cache.peek('b'), 2, 'peek does not change the order')
  cache.set('d', 4)
  t.same(cache.entries(), [['c', 3], ['a', 1], ['d', 4]], 'b went, least recently used first')
  t.equal(cache.evictions, 1)
})

t.test('evicts past the byte limit and keeps its byte count exact through replace and delete', async (t) => {
  const cache = new BoundedCache<string>({ maxEntries: 100, maxBytes: 1_000 }, (v) => v.length)
  cache.set('a', 'x'.repeat(300))
  cache.set('b', 'x'.repeat(300))
  const two = cache.bytes
  t.ok(two > 600 && two <= 1_000, `two values, ${two} bytes`)
  cache.set('c', 'x'.repeat(300))
  t.same(cache.entries().map(([k]) => k), ['b', 'c'], 'a third one pushes the oldest out')
  t.equal(cache.bytes, two, 'bytes follow what is held')
  cache.set('b', 'y')
  t.ok(cache.bytes < two, 'replacing a value replaces its bytes')
  cache.delete('b')
  cache.delete('c')
  cache.delete('never')
  t.equal(cache.bytes, 0)
  t.equal(cache.size, 0)
  cache.set('big', 'x'.repeat(2_000))
  t.equal(cache.size, 0, 'a value over the whole budget is not kept')
  cache.set('k', 'old')
  cache.set('k', 'x'.repeat(2_000))
  t.equal(cache.get('k'), undefined, 'nor does its key keep answering with the value it replaced')
})

t.test('zero limits keep nothing; bad limits are refused', async (t) => {
  const none = new BoundedCache<number>({ maxEntries: 0, maxBytes: 1_000 })
  none.set('a', 1)
  t.equal(none.size, 0)
  t.throws(() => new BoundedCache({ maxEntries: -1, maxBytes: 1 }), RangeError)
  t.throws(() => new BoundedCache({ maxEntries: 1, maxBytes: 1.5 }), RangeError)
})

t.test('approximateBytes grows with the content of a JSON-like value and survives a cycle', async (t) => {
  const small = approximateBytes({ id: 'a', tags: ['x'] })
  const big = approximateBytes({ id: 'a', tags: ['x'], notes: 'y'.repeat(1_000) })
  t.ok(big - small >= 1_000, 'a 1,000-character string counts at least a byte a character')
  t.equal(approximateBytes(Buffer.alloc(100)), 164)
  const cyclic: Record<string, unknown> = { a: 1 }
  cyclic.self = cyclic
  t.ok(Number.isFinite(approximateBytes(cyclic)), 'a cycle ends at the depth guard')
})
