// The dead-letter store contract, run by every adapter's test file. Stores may be shared with other
// runs, so each subtest marks its letters with a fresh reason and only asserts on those.
import type { Test } from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { MAX_STORED_RAW_BYTES, type DeadLetter, type DeadLetterStore } from '../../producers/changelog/port.ts'

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
    // Distinct bytes: identical ones would be one letter (dedupe).
    for (let i = 0; i < 3; i++) await store.put({ reason: `${run}: #${i}`, origin: {}, key: null, raw: Buffer.from(`x${i}`) })
    t.equal((await store.list({ limit: 2 })).length, 2)
    t.equal((await store.list({ limit: 1, includeRedriven: true })).length, 1)
  })

  t.test('the same content for the same tenant and resource is one letter, counted; another tenant or resource is another', async (t) => {
    const store = await storeFor(t)
    const run = fresh()
    const letter = (tenant: string, resource: string, contentHash?: string) => ({
      reason: `${run}: bad record`,
      origin: { resource, poll: randomBytes(4).toString('hex') },
      key: `${tenant}-${run}:e1`,
      raw: Buffer.from(`envelope ${randomBytes(4).toString('hex')}`),
      contentHash: contentHash ?? `hash-${run}`,
    })
    const first = await store.put(letter('acme', 'employees'))
    const again = await store.put(letter('acme', 'employees'))
    const third = await store.put(letter('acme', 'employees'))
    t.equal(again.id, first.id, 'a repeat is the same letter')
    t.equal(third.count, 3, 'counted')
    await store.put(letter('globex', 'employees'))
    await store.put(letter('acme', 'groups'))
    const mine = (await store.list()).filter((l) => l.reason.startsWith(run))
    t.equal(mine.length, 3, 'one per tenant and resource')
    t.equal(mine.find((l) => l.id === first.id)?.count, 3)
    t.equal(mine.find((l) => l.id === first.id)?.contentHash, `hash-${run}`)
    // Once re-driven, the same content failing again is a new letter (the fix did not work).
    await store.markRedriven(first.id)
    const afterRedrive = await store.put(letter('acme', 'employees'))
    t.not(afterRedrive.id, first.id)
    t.equal(afterRedrive.count, 1)
  })

  t.test('without a contentHash the raw bytes are the content', async (t) => {
    const store = await storeFor(t)
    const run = fresh()
    const a = await store.put({ reason: `${run}: x`, origin: { resource: 'employees' }, key: `t-${run}:1`, raw: Buffer.from('same bytes') })
    const b = await store.put({ reason: `${run}: x`, origin: { resource: 'employees' }, key: `t-${run}:1`, raw: Buffer.from('same bytes') })
    const c = await store.put({ reason: `${run}: x`, origin: { resource: 'employees' }, key: `t-${run}:1`, raw: Buffer.from('other bytes') })
    t.equal(a.id, b.id)
    t.not(a.id, c.id)
    t.match(a.contentHash, /^[0-9a-f]{64}$/)
  })

  t.test('a big raw payload keeps a prefix, its size and hash', async (t) => {
    const store = await storeFor(t)
    const run = fresh()
    const raw = Buffer.alloc(MAX_STORED_RAW_BYTES + 1000, 0x61)
    await store.put({ reason: `${run}: huge`, origin: {}, key: null, raw })
    const [got] = (await store.list()).filter((l) => l.reason.startsWith(run))
    t.equal(got.raw.length, MAX_STORED_RAW_BYTES, 'only the prefix is kept')
    t.equal(got.rawSize, raw.length, 'with the original size')
    t.equal(got.contentHash, createHash('sha256').update(raw).digest('hex'), 'and the hash of the whole')
  })

  t.test('list filters by tenant, resource and reason, and pages with before', async (t) => {
    const store = await storeFor(t)
    const run = fresh()
    const put = (tenant: string, resource: string, reason: string, i: number) =>
      store.put({ reason: `${run}: ${reason}`, origin: { resource }, key: `${tenant}-${run}:e${i}`, raw: Buffer.from(`${run} ${i}`) })
    for (let i = 0; i < 5; i++) await put('acme', 'employees', `invalid employees record #${i}`, i)
    await put('acme', 'groups', 'invalid groups record', 5)
    await put('globex', 'employees', 'unknown tenant', 6)
    const acme = await store.list({ tenant: `acme-${run}` })
    t.equal(acme.length, 6, 'tenant filter')
    t.equal((await store.list({ tenant: `acme-${run}`, resource: 'groups' })).length, 1, 'resource filter')
    t.equal((await store.list({ tenant: `globex-${run}`, reason: 'UNKNOWN TENANT' })).length, 1, 'reason filter, case-insensitive')
    const page1 = await store.list({ tenant: `acme-${run}`, resource: 'employees', limit: 2 })
    const page2 = await store.list({ tenant: `acme-${run}`, resource: 'employees', limit: 2, before: page1[1].id })
    const page3 = await store.list({ tenant: `acme-${run}`, resource: 'employees', limit: 2, before: page2[1].id })
    t.same([...page1, ...page2, ...page3].map((l) => l.reason), [4, 3, 2, 1, 0].map((i) => `${run}: invalid employees record #${i}`), 'newest first, no gap, no repeat')
  })
}
