// The Kafka adapter's per-tenant in-flight offsets, without a broker: the partitioner it wraps, a
// send result as kafkajs returns it, and committed offsets the test sets.
import t from 'tap'
import type { PartitionerArgs } from 'kafkajs'
import { TenantInFlight } from './kafka-tenant-pending.ts'

function setup() {
  let committed: Record<string, Record<number, string>> = {}
  let fetches = 0
  let clock = 0
  const inFlight = new TenantInFlight(
    async () => {
      fetches++
      return Object.entries(committed).map(([topic, parts]) => ({ topic, partitions: Object.entries(parts).map(([p, offset]) => ({ partition: Number(p), offset })) }))
    },
    500,
    () => clock,
  )
  // Keys ending in an even digit go to partition 0, odd ones to partition 1.
  const partition = inFlight.partitioner(({ message }) => Number(String(message.key).slice(-1)) % 2)
  const send = (topic: string, messages: Array<{ tenant: string; key: string }>, base: Record<number, string>) => {
    const sent = messages.map((m) => ({ tenant: m.tenant, topic, message: { key: m.key, value: Buffer.alloc(0) } }))
    for (const s of sent) partition({ topic, partitionMetadata: [], message: s.message } as unknown as PartitionerArgs)
    inFlight.recordSent(sent, Object.entries(base).map(([p, baseOffset]) => ({ topicName: topic, partition: Number(p), errorCode: 0, baseOffset })))
  }
  return {
    inFlight,
    send,
    commit: (c: typeof committed) => (committed = c),
    tick: (ms: number) => (clock += ms),
    fetches: () => fetches,
  }
}

t.test("counts a tenant's records past the group's committed offsets, per partition", async (t) => {
  const s = setup()
  t.equal(await s.inFlight.pending('g', 'big'), 0, 'asked before publishing: tracked from now on')
  // big:0 big:2 → partition 0 at 10, 11; big:1 → partition 1 at 5; small's record in between.
  s.send('employees', [{ tenant: 'big', key: 'big:0' }, { tenant: 'small', key: 'small:4' }, { tenant: 'big', key: 'big:2' }, { tenant: 'big', key: 'big:1' }], { 0: '10', 1: '5' })
  t.equal(await s.inFlight.pending('g', 'big'), 3, 'nothing committed yet')
  s.commit({ employees: { 0: '12', 1: '5' } }) // partition 0: offsets 10 and 11 committed; partition 1: none
  t.equal(await s.inFlight.pending('g', 'big'), 3, 'the committed offsets are cached for 500 ms')
  t.equal(s.fetches(), 1)
  s.tick(500)
  t.equal(await s.inFlight.pending('g', 'big'), 2, 'big:2 (offset 12) and big:1 (partition 1, offset 5) are left')
  t.equal(s.fetches(), 2)
  s.commit({ employees: { 0: '13', 1: '6' } })
  s.tick(500)
  t.equal(await s.inFlight.pending('g', 'big'), 0, 'everything committed')
})

t.test('a tenant nobody asked about is not tracked (nothing grows while the budget is off)', async (t) => {
  const s = setup()
  s.send('employees', [{ tenant: 'small', key: 'small:1' }], { 1: '0' })
  t.equal(await s.inFlight.pending('g', 'small'), 0, 'records published before the first question are not counted')
  s.send('employees', [{ tenant: 'small', key: 'small:3' }], { 1: '1' })
  t.equal(await s.inFlight.pending('g', 'small'), 1, 'from the first question on they are')
})

t.test('a failed offsets fetch is not cached', async (t) => {
  let fail = true
  const inFlight = new TenantInFlight(async () => {
    if (fail) throw new Error('broker down')
    return []
  })
  const partition = inFlight.partitioner(() => 0)
  await inFlight.pending('g', 'a')
  const message = { key: 'a:1', value: Buffer.alloc(0) }
  partition({ topic: 'x', partitionMetadata: [], message } as unknown as PartitionerArgs)
  inFlight.recordSent([{ tenant: 'a', topic: 'x', message }], [{ topicName: 'x', partition: 0, errorCode: 0, baseOffset: '0' }])
  await t.rejects(inFlight.pending('g', 'a'), /broker down/)
  fail = false
  t.equal(await inFlight.pending('g', 'a'), 1, 'asked again at once, and nothing committed')
})
