import t from 'tap'
import { createRequire } from 'node:module'
import { Partitioners, type PartitionerArgs } from 'kafkajs'
import { javaCompatiblePartitioner, murmur2 } from './kafka-partitioner.ts'

// kafkajs's own murmur2 (what Partitioners.DefaultPartitioner hashes with), to compare against.
const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number

// Keys of every length mod 4, ASCII and multi-byte, strings and Buffers, as the producers send them
// (`tenant:entity`, `tenant:userId`) and arbitrary ones.
const pool = ['a', 'Z', ':', '-', '_', '0', '9', 'é', 'ß', '東', '😀', ' ', '\u0000', 'ÿ']
const keys: Array<string | Buffer> = ['', 'acme:e1', 'tenant-42:employee-00017', 'Zoë:Müller']
for (let i = 0; i < 2000; i++) keys.push(Array.from({ length: i % 67 }, (_, j) => pool[(i * 31 + j * 17 + (i >> 3)) % pool.length]).join(''))
for (let i = 0; i < 300; i++) keys.push(Buffer.from(Array.from({ length: i % 50 }, (_, j) => (i * 97 + j * 251) & 0xff)))

t.test('murmur2 is kafkajs\'s (and so the Java client\'s) hash for every key', async (t) => {
  const differing = keys.filter((key) => murmur2(key) !== kafkajsMurmur2(key))
  t.same(differing, [])
  // Test vectors of the Java client (org.apache.kafka.common.utils.UtilsTest#testMurmur2).
  const vectors: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ]
  for (const [key, hash] of vectors) t.equal(murmur2(Buffer.from(key, 'ascii')), hash, key)
})

const metadata = (n: number, leaderless: number[] = []) => Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: leaderless.includes(partitionId) ? -1 : 0, replicas: [0], isr: [0], offlineReplicas: [], partitionErrorCode: 0 }))
const args = (message: PartitionerArgs['message'], n: number, leaderless: number[] = []): PartitionerArgs => ({ topic: 't', partitionMetadata: metadata(n, leaderless), message })

t.test('a keyed message goes to the partition kafkajs\'s DefaultPartitioner picks', async (t) => {
  const ours = javaCompatiblePartitioner()
  const theirs = Partitioners.DefaultPartitioner()
  for (const partitions of [1, 3, 6, 8, 16, 100]) {
    const differing = keys.filter((key) => ours(args({ key, value: 'v' }, partitions)) !== theirs(args({ key, value: 'v' }, partitions)))
    t.same(differing, [], `${partitions} partitions`)
  }
})

t.test('an explicit partition wins; without a key, round robin over the partitions with a leader', async (t) => {
  const ours = javaCompatiblePartitioner()
  t.equal(ours(args({ key: 'k', value: 'v', partition: 5 }, 8)), 5)
  const seen = Array.from({ length: 12 }, () => ours(args({ value: 'v' }, 4, [1])))
  t.ok(seen.every((p) => p !== 1), 'never the partition without a leader')
  t.same(new Set(seen), new Set([0, 2, 3]), 'every partition with a leader in turn')
  for (let i = 1; i < seen.length; i++) t.not(seen[i], seen[i - 1], 'consecutive messages to different partitions')
  t.ok([0, 1, 2, 3].includes(ours(args({ value: 'v' }, 4, [0, 1, 2, 3]))), 'no leader anywhere: still a partition of the topic')
})
