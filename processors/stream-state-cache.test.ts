import t from 'tap'
import { StreamStateCache } from './stream-state-cache.ts'

t.test('keeps at most its capacity, dropping the least recently used stream', async (t) => {
  const cache = new StreamStateCache(2)
  cache.set('a', { state: 'A', revision: 0n })
  cache.set('b', { state: 'B', revision: 1n })
  t.equal(cache.get('a')?.state, 'A', 'reading a makes b the least recently used')
  cache.set('c', { state: 'C', revision: 'no_stream' })
  t.equal(cache.size, 2)
  t.equal(cache.get('b'), undefined, 'b was evicted')
  t.same([cache.get('a')?.revision, cache.get('c')?.revision], [0n, 'no_stream'])
  cache.set('a', { state: 'A2', revision: 3n })
  t.equal(cache.get('a')?.state, 'A2', 'set replaces')
  cache.delete('a')
  t.equal(cache.get('a'), undefined)
})

t.test('keeps at most its byte budget, however few entries that is', async (t) => {
  const state = (kb: number) => ({ record: { notes: 'x'.repeat(kb * 1024) } }) // ~kb KiB at a byte a character
  const cache = new StreamStateCache(1_000, 10 * 1024)
  for (let i = 0; i < 20; i++) cache.set(`s-${i}`, { state: state(3), revision: BigInt(i) })
  t.ok(cache.bytes <= 10 * 1024, `holds ${cache.bytes} bytes, within the budget`)
  t.equal(cache.size, 3, 'three ~3 KiB states fit in 10 KiB, far below the entry limit')
  t.same([cache.get('s-17')?.revision, cache.get('s-18')?.revision, cache.get('s-19')?.revision], [17n, 18n, 19n], 'the most recent ones')
  t.equal(cache.evictions, 17)
  cache.set('huge', { state: state(20), revision: 0n })
  t.equal(cache.get('huge'), undefined, 'a state bigger than the whole budget is not kept')
  t.equal(cache.size, 3, 'and evicts nothing')
  cache.set('told', { state: 'tiny', revision: 0n }, 9 * 1024)
  t.same([cache.size, cache.get('told')?.state], [1, 'tiny'], 'a size the caller gives is the one counted')
})

t.test('capacity 0 caches nothing; a bad capacity is refused', async (t) => {
  const off = new StreamStateCache(0)
  off.set('a', { state: 1, revision: 0n })
  t.equal(off.size, 0)
  t.throws(() => new StreamStateCache(-1), RangeError)
})
