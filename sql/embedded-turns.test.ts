import t from 'tap'
import { EmbeddedTurns, type TurnKind } from './embedded-turns.ts'
import { openPgliteDatabase } from './pglite.ts'

// A holder that keeps the turn until its gate opens, recording when it got the turn.
function holder(turns: EmbeddedTurns, kind: TurnKind, name: string, order: string[]) {
  let open!: () => void
  const gate = new Promise<void>((r) => (open = r))
  const done = turns.run(kind, async () => {
    order.push(name)
    await gate
  })
  return { open, done }
}
const tick = () => new Promise((r) => setImmediate(r))

t.test('waiting single statements go before a waiting transaction', async (t) => {
  const turns = new EmbeddedTurns(16)
  const order: string[] = []
  const first = holder(turns, 'transaction', 'tx1', order)
  const tx2 = holder(turns, 'transaction', 'tx2', order)
  const reads = [1, 2, 3].map((i) => turns.run('statement', async () => void order.push(`read${i}`)))
  tx2.open()
  first.open()
  await Promise.all([first.done, tx2.done, ...reads])
  t.same(order, ['tx1', 'read1', 'read2', 'read3', 'tx2'], 'the reads queued after tx2 ran before it (FIFO would run tx2 first)')
})

t.test('a transaction is not starved by a stream of statements', async (t) => {
  const turns = new EmbeddedTurns(2)
  const order: string[] = []
  const first = holder(turns, 'statement', 'read0', order)
  const tx = holder(turns, 'transaction', 'tx', order)
  tx.open()
  // Every read that runs queues another one: without a bound, the transaction would never run.
  let n = 0
  const reads: Promise<void>[] = []
  const read = (): Promise<void> =>
    turns.run('statement', async () => {
      n += 1
      order.push(`read${n}`)
      if (n < 6) reads.push(read())
    })
  reads.push(read(), read())
  first.open()
  await first.done
  await tx.done
  while (reads.length) await reads.shift()
  t.same(order.slice(0, 4), ['read0', 'read1', 'read2', 'tx'], 'after 2 statements ahead, the waiting transaction gets the turn')
  t.equal(order.length, n + 2, 'every queued statement still ran afterwards')
  t.ok(n >= 6)
})

t.test('embedded database: a read passes waiting transactions, never runs inside another caller\'s transaction', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  await db.exec('CREATE TABLE kv (k text primary key, v int)')
  const order: string[] = []
  let open!: () => void
  const gate = new Promise<void>((r) => (open = r))
  const tx1 = db.transaction(async (tx) => {
    await tx.query("INSERT INTO kv VALUES ('a', 1)")
    order.push('tx1 open')
    await gate
    order.push('tx1 commit')
  })
  await tick()
  const tx2 = db.transaction(async (tx) => {
    await tx.query("INSERT INTO kv VALUES ('b', 2)")
    order.push('tx2')
  })
  const read = db.query<{ k: string }>('SELECT k FROM kv ORDER BY k').then((r) => {
    order.push(`read ${r.rows.map((x) => x.k).join(',')}`)
  })
  await tick()
  t.same(order, ['tx1 open'], 'the read waits while tx1 is open (it does not run inside it)')
  open()
  await Promise.all([tx1, tx2, read])
  t.same(order, ['tx1 open', 'tx1 commit', 'read a', 'tx2'], 'the read ran before the transaction queued ahead of it, and saw only committed rows')
})
