import t from 'tap'
import { sanitiseRecord, repairString } from './sanitise-record.ts'

t.test('strings are repaired: NUL removed, lone surrogates replaced, valid pairs kept', async (t) => {
  t.equal(repairString('Nul\u0000Name'), 'NulName')
  t.equal(repairString('a\ud800b'), 'a\ufffdb')
  t.equal(repairString('x\udc00'), 'x\ufffd')
  t.equal(repairString('ok 😀'), 'ok 😀', 'a surrogate pair is a character, kept')
  const r = sanitiseRecord({ id: 'e1', first_name: 'Nul\u0000Name', nested: { list: ['\ud800'] }, ['k\u0000ey']: 1 })
  t.same(r, { ok: true, repaired: true, record: { id: 'e1', first_name: 'NulName', nested: { list: ['\ufffd'] }, key: 1 } })
  t.same(sanitiseRecord({ id: 'e2', name: 'fine' }), { ok: true, repaired: false, record: { id: 'e2', name: 'fine' } })
})

t.test('an id with NUL or a lone surrogate, a record too deep or too big is rejected with a reason', async (t) => {
  t.match(sanitiseRecord({ id: 'a\u0000b' }), { ok: false, reason: /NUL/ })
  t.match(sanitiseRecord({ id: '\ud800' }), { ok: false, reason: /surrogate/ })
  let deep: unknown = 1
  for (let i = 0; i < 100_000; i++) deep = { x: deep }
  t.match(sanitiseRecord({ id: 'd', deep }), { ok: false, reason: /nested deeper than 32/ }, '100,000 deep: no stack overflow')
  t.match(sanitiseRecord({ id: 'b', blob: 'x'.repeat(300_000) }), { ok: false, reason: /bytes of JSON/ })
  t.match(sanitiseRecord({ id: 'b', blob: 'x'.repeat(300_000) }, { maxBytes: 1_000_000 }), { ok: true })
})
