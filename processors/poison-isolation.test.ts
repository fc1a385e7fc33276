// The poison isolation: a batch that keeps failing is split until the one record that keeps
// failing alone is handed over; the rest are handled, in order; a failure while the store is down,
// or one that is never a record's fault, isolates nothing.
import t from 'tap'
import { handleIsolatingPoison } from './poison-isolation.ts'
import { isDatabaseUnavailable } from '../sql/unavailable.ts'

const fast = { backoffMs: () => 1 }

t.test('the one record that keeps failing is handed over, every other is handled once, in order', async (t) => {
  const handled: number[] = []
  const poisoned: number[] = []
  await handleIsolatingPoison(
    [1, 2, 3, 4, 5, 6, 7],
    async (items) => {
      if (items.includes(5)) throw new Error('cannot store 5')
      handled.push(...items)
    },
    {
      ...fast,
      healthy: async () => true,
      poisoned: async (item, err) => {
        poisoned.push(item)
        t.match(err.message, 'cannot store 5')
      },
    },
  )
  t.same(poisoned, [5])
  t.same(handled, [1, 2, 3, 4, 6, 7])
})

t.test('while the store is down nothing is split or handed over: the batch is retried whole', async (t) => {
  let calls = 0
  const sizes: number[] = []
  await handleIsolatingPoison(
    [1, 2, 3, 4],
    async (items) => {
      sizes.push(items.length)
      if (++calls < 8) throw new Error('connection refused')
    },
    { ...fast, attempts: 2, healthy: async () => calls >= 8, poisoned: async () => void t.fail('nothing is poison') },
  )
  t.same(sizes, [4, 4, 4, 4, 4, 4, 4, 4], 'eight tries of the whole batch, the last succeeding')
})

t.test('a failure that says the store was out of reach is retried whole even when the health probe answers', async (t) => {
  // The probe runs on a connection the pool already holds; the batch needed a new one, refused.
  let calls = 0
  const sizes: number[] = []
  const refused = Object.assign(new Error('database "views" is not currently accepting connections'), { code: '55000' })
  await handleIsolatingPoison(
    [1, 2, 3, 4],
    async (items) => {
      sizes.push(items.length)
      if (++calls < 6) throw refused
    },
    { ...fast, attempts: 2, healthy: async () => true, unavailable: isDatabaseUnavailable, poisoned: async () => void t.fail('nothing is poison') },
  )
  t.same(sizes, [4, 4, 4, 4, 4, 4], 'six tries of the whole batch, never split, the last succeeding')
})

t.test('a failure that is never a record’s fault is rethrown at once; so is any failure while stopping', async (t) => {
  class Conflict extends Error {}
  let calls = 0
  await t.rejects(
    handleIsolatingPoison([1, 2], async () => {
      calls++
      throw new Conflict('changed')
    }, {
      ...fast,
      healthy: async () => true,
      isTransient: (err) => err instanceof Conflict,
      poisoned: async () => void t.fail('not poison'),
    }),
    /changed/,
  )
  await t.rejects(
    handleIsolatingPoison([1, 2], async () => Promise.reject(new Error('down')), { ...fast, healthy: async () => true, stopped: () => true, poisoned: async () => void t.fail('not poison') }),
    /down/,
  )
  t.equal(calls, 1, 'the transient failure was not tried again or split')
})
