import t from 'tap'
import { createHmac } from 'node:crypto'
import { KomboWebhookVerifier, isValidKomboSignature, komboSignature } from './kombo-webhook.ts'

const SECRET = 'whsec-test-0123456789'
const body = (over: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ id: 'wh_1', type: 'data-changed', data: { integration_id: 'personio:acme', changed_models: [{ name: 'hris_employees' }] }, ...over }))

t.test('the signature is HMAC-SHA256 of the raw body, base64url or hex, compared exactly', async (t) => {
  const raw = body()
  const digest = createHmac('sha256', SECRET).update(raw).digest()
  t.ok(isValidKomboSignature(SECRET, raw, digest.toString('base64url')), 'base64url')
  t.ok(isValidKomboSignature(SECRET, raw, digest.toString('base64')), 'padded standard base64')
  t.ok(isValidKomboSignature(SECRET, raw, digest.toString('hex')), 'hex')
  t.ok(isValidKomboSignature(SECRET, raw, `sha256=${digest.toString('hex')}`), 'with a sha256= prefix')
  t.notOk(isValidKomboSignature('other-secret-123', raw, komboSignature('other-secret-123', body({ id: 'x' }))), 'another body')
  t.notOk(isValidKomboSignature(SECRET, raw, komboSignature('wrong-secret-456', raw)), 'another secret')
  t.notOk(isValidKomboSignature(SECRET, Buffer.concat([raw, Buffer.from(' ')]), komboSignature(SECRET, raw)), 'one byte more in the body')
  t.notOk(isValidKomboSignature(SECRET, raw, undefined), 'no header')
  t.notOk(isValidKomboSignature(SECRET, raw, ''), 'empty header')
  t.notOk(isValidKomboSignature(SECRET, raw, komboSignature(SECRET, raw).slice(0, 20)), 'a truncated signature')
})

t.test('accepts a signed webhook once and names its integration', async (t) => {
  const v = new KomboWebhookVerifier({ secret: SECRET })
  const raw = body()
  t.same(v.verify(raw, komboSignature(SECRET, raw)), {
    ok: true,
    webhookId: 'wh_1',
    type: 'data-changed',
    event: { kind: 'data-changed', webhookId: 'wh_1', integrationId: 'personio:acme', resources: ['employees'] },
  })
  const again = v.verify(raw, komboSignature(SECRET, raw))
  t.match(again, { ok: false, status: 409, code: 'replayed_webhook' }, 'the same delivery again is a replay')
})

t.test('rejects bad signatures before looking at the body, and never remembers their ids', async (t) => {
  const v = new KomboWebhookVerifier({ secret: SECRET })
  const raw = body()
  const bad = v.verify(raw, komboSignature('not-the-secret', raw))
  t.match(bad, { ok: false, status: 401, code: 'invalid_signature' })
  t.match(v.verify(raw, undefined), { ok: false, status: 401, message: /missing x-kombo-signature/ })
  t.equal(v.verify(raw, komboSignature(SECRET, raw)).ok, true, 'the genuine delivery is still accepted after forged ones with its id')
  t.notMatch(JSON.stringify(bad), SECRET, 'the secret is not in the message')
})

t.test('a signed body that is not a Kombo webhook is a 400', async (t) => {
  const v = new KomboWebhookVerifier({ secret: SECRET })
  for (const raw of [Buffer.from('not json'), Buffer.from('{"id":"x","type":"data-changed","data":{}}'), Buffer.from('[]')]) {
    t.match(v.verify(raw, komboSignature(SECRET, raw)), { ok: false, status: 400, code: 'invalid_payload' }, raw.toString())
  }
})

t.test("a body whose own delivery time is outside the tolerance is rejected as stale; times inside data are not delivery times", async (t) => {
  const now = new Date('2026-03-01T12:00:00Z')
  const v = new KomboWebhookVerifier({ secret: SECRET, toleranceMs: 5 * 60_000, now: () => now })
  const stale = body({ id: 'wh_old', created_at: '2026-03-01T11:50:00Z' })
  t.match(v.verify(stale, komboSignature(SECRET, stale)), { ok: false, status: 400, code: 'stale_webhook' })
  const fresh = body({ id: 'wh_new', created_at: '2026-03-01T11:58:00Z' })
  t.equal(v.verify(fresh, komboSignature(SECRET, fresh)).ok, true, 'two minutes old is fine')
  const retried = body({ id: 'wh_retried', type: 'sync-finished', data: { integration_id: 'i', sync_ended_at: '2026-03-01T10:00:00Z' } })
  t.equal(v.verify(retried, komboSignature(SECRET, retried)).ok, true, 'a sync-finished Kombo re-delivers two hours after the sync ended is still accepted')
  const future = body({ id: 'wh_future', timestamp: Math.floor(now.getTime() / 1000) + 3600 })
  t.match(v.verify(future, komboSignature(SECRET, future)), { ok: false, code: 'stale_webhook' }, 'an hour ahead is rejected too')
})

t.test('ids are forgotten after the replay window', async (t) => {
  let now = new Date('2026-03-01T12:00:00Z')
  const v = new KomboWebhookVerifier({ secret: SECRET, replayWindowMs: 60 * 60_000, now: () => now })
  const raw = body()
  t.equal(v.verify(raw, komboSignature(SECRET, raw)).ok, true)
  now = new Date(now.getTime() + 30 * 60_000)
  t.equal(v.verify(raw, komboSignature(SECRET, raw)).ok, false, 'within the window: a replay')
  now = new Date(now.getTime() + 31 * 60_000)
  t.equal(v.verify(raw, komboSignature(SECRET, raw)).ok, true, 'after the window the id is no longer remembered')
})
