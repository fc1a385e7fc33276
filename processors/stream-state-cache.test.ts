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

t.test('capacity 0 caches nothing; a bad capacity is refused', async (t) => {
  const off = new StreamStateCache(0)
  off.set('a', { state: 1, revision: 0n })
  t.equal(off.size, 0)
  t.throws(() => new StreamStateCache(-1), RangeError)
})
