// The memo of opened plaintexts: answers only for the very ciphertext it was opened from, forgets
// after its time, and stays within its count.
import t from 'tap'
import { OpenedPlaintexts } from './opened-plaintexts.ts'

t.test('answers for the same stream, IV, tag and ciphertext only', async (t) => {
  const memo = new OpenedPlaintexts()
  t.teardown(() => memo.close())
  const data = { first_name: 'Ada' }
  memo.set('employee-t_a', 'iv1', 'tag1', 'ct1', data, 20)
  t.equal(memo.get('employee-t_a', 'iv1', 'tag1', 'ct1'), data, 'the same object back')
  t.equal(memo.get('employee-t_a', 'iv1', 'tag1', 'ct2'), undefined, 'another ciphertext under the same IV and tag: not answered')
  t.equal(memo.get('employee-t_b', 'iv1', 'tag1', 'ct1'), undefined, 'another stream: not answered')
  t.equal(memo.get('employee-t_a', 'iv2', 'tag1', 'ct1'), undefined, 'another IV: not answered')
})

t.test('an entry expires after its time, on a read and on the sweep', async (t) => {
  let now = 1_000
  const memo = new OpenedPlaintexts({ ttlMs: 100 }, () => now)
  t.teardown(() => memo.close())
  memo.set('s', 'a', 't', 'c1', { n: 1 }, 10)
  now += 50
  memo.set('s', 'b', 't', 'c2', { n: 2 }, 10)
  t.same(memo.get('s', 'a', 't', 'c1'), { n: 1 }, 'still fresh')
  now += 60 // the first is 110 ms old, the second 60
  t.equal(memo.get('s', 'a', 't', 'c1'), undefined, 'expired on read')
  memo.sweep()
  t.equal(memo.size, 1, 'the fresh one stays')
  now += 50
  memo.sweep()
  t.equal(memo.size, 0, 'the sweep drops it once expired, unread')
})

t.test('bounded by count: the oldest go first', async (t) => {
  const memo = new OpenedPlaintexts({ maxEntries: 3 })
  t.teardown(() => memo.close())
  for (let i = 0; i < 5; i++) memo.set('s', `iv${i}`, 't', `c${i}`, { i }, 10)
  t.equal(memo.size, 3)
  t.equal(memo.get('s', 'iv0', 't', 'c0'), undefined)
  t.same(memo.get('s', 'iv4', 't', 'c4'), { i: 4 })
})
