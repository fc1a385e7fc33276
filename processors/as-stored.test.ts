// asStored must give exactly what a JSON round trip (a store write and reload) gives.
import t from 'tap'
import { asStored, isPlainJson } from './as-stored.ts'

const roundTrip = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown

t.test('plain JSON comes back as the same object', async (t) => {
  const data = { a: 1, b: 'x', c: null, d: [1, { e: true }], f: { g: [] } }
  t.equal(asStored(data), data, 'no copy')
  t.same(asStored(data), roundTrip(data))
})

t.test('anything a round trip would change is copied as the round trip would', async (t) => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['an undefined member', { a: 1, b: undefined }],
    ['a Date', { at: new Date('2026-03-01T10:00:00.000Z') }],
    ['a nested Date in an array', { list: [{ at: new Date(0) }] }],
    ['a non-finite number', { n: Number.NaN, m: Number.POSITIVE_INFINITY }],
    ['negative zero', { z: -0 }],
    ['undefined in an array', { list: [1, undefined] }],
    ['a class instance', { m: new Map([[1, 2]]) }],
    ['a toJSON member', { v: { toJSON: () => 'x' } }],
  ]
  for (const [what, data] of cases) {
    t.notOk(isPlainJson(data), `${what} is not plain JSON`)
    const stored = asStored(data)
    t.not(stored, data, `${what}: copied`)
    t.same(stored, roundTrip(data), `${what}: as the round trip gives it`)
    t.strictSame(Object.keys(stored), Object.keys(roundTrip(data) as object), `${what}: the same keys`)
  }
})
