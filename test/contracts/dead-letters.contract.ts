// The dead-letter store contract, run by every adapter's test file. Stores may be shared with other
// runs, so each subtest marks its letters with a fresh reason and only asserts on those.
import type { Test } from 'tap'
import { randomBytes } from 'node:crypto'
import type { DeadLetter, DeadLetterStore } from '../../producers/changelog/port.ts'

export type OpenDeadLetterStore = () => Promise<{ store: DeadLetterStore; cleanup: () => Promise<void> }>

const fresh = () => `run-${randomBytes(5).toString('hex')}`

export function runDeadLetterContract(t: Test, open: OpenDeadLetterStore): void {
  const storeFor = async (t: Test): Promise<DeadLetterStore> => {
    const { store, cleanup } = await open()
    t.teardown(cleanup)
    return store
  }

  t.test('put keeps the letter, with the raw bytes unchanged', async (t) => {
    const store = await storeFor(t)
    const run = fresh()
    // Not valid UTF-8, with NUL bytes: the store must keep bytes, not text.
    const raw = Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x22, 0x00, 0xc3, 0x28, 0x80, 0x0a])
    const origin = { topic: 'kombo.hris.employees.v1', partition: 3, offset: '12345', run }
    const put = await store.put({ reason: `${run}: invalid employees record e1: ÿ 😀`, origin, key: 'acme:e1', raw })
    t.match(put.id, /.+/, 'it gets an id')
    t.ok(!Number.isNaN(Date.parse(put.at)), 'at is a date-time')
    t.equal(put.redrivenAt, null)
    const mine = (await store.list()).filter((l) => l.reason.startsWith(run))
    t.equal(mine.length, 1)
    const [got] = mine
    t.equal(got.id, put.id)
    t.equal(got.reason, `${run}: invalid employees record e1: ÿ 😀`)
    t.same(got.origin, origin)
    t.equal(got.key, 'acme:e1')
    t.ok(Buffer.isBuffer(got.raw), 'raw is a Buffer')
    t.ok(got.raw.equals(raw), 'raw bytes are unchanged')
    t.equal(got.redrivenAt, null)
  })

  t.test('a letter without a key, and an empty payload', async (t) => {
    const store = await storeFor(t)
    const run = fresh()
    await store.put({ reason: `${run}: undecodable`, origin: { poll: 'p1' }, key: null, raw: Buffer.alloc(0) })
    const [got] = (await store.list()).filter((l) => l.reason.startsWith(run))
    t.equal(got.key, null)
    t.equal(got.raw.length, 0)
  })

  t.test('markRedriven hides a letter unless redriven ones are asked for', async (t) => {
    const store = await storeFor(t)
    const run = fresh()
    const letters: DeadLetter[] = []
    for (let i = 0; i < 3; i++) {
      letters.push(await store.put({ reason: `${run}: #${i}`, origin: { i }, key: `k${i}`, raw: Buffer.from(`payload ${i}`) }))
    }
    await store.markRedriven(letters[1].id)
    const open = (await store.list()).filter((l) => l.reason.startsWith(run))
    t.same(open.map((l) => l.id).sort(), [letters[0].id, letters[2].id].sort(), 'redriven letters are not listed by default')
    const all = (await store.list({ includeRedriven: true })).filter((l) => l.reason.startsWith(run))
    t.equal(all.length, 3, 'includeRedriven lists them too')
    const redriven = all.find((l) => l.id === letters[1].id)!
    t.ok(redriven.redrivenAt && !Number.isNaN(Date.parse(redriven.redrivenAt)), 'redrivenAt is set')
    t.ok(all.filter((l) => l.id !== letters[1].id).every((l) => l.redrivenAt === null), 'the others are untouched')
  })

  t.test('list honours limit', async (t) => {
    const store = await storeFor(t)
    const run = fresh()
    for (let i = 0; i < 3; i++) await store.put({ reason: `${run}: #${i}`, origin: {}, key: null, raw: Buffer.from('x') })
    t.equal((await store.list({ limit: 2 })).length, 2)
    t.equal((await store.list({ limit: 1, includeRedriven: true })).length, 1)
  })
}
