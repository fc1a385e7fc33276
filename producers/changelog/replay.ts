// Replay of the change log: moves the processors' consumer group back, so the records from an
// offset (or a time) on are processed again. Processing is idempotent (deterministic event ids,
// diff against the folded stream), so a replay appends nothing that is already in the store; it
// re-applies what was lost or dead-lettered for a reason since fixed.
//
// The group must be stopped first (no processor running): Kafka refuses to move the offsets of a
// group with members, and the SQL consumer keeps its position in memory while it runs.
import { Kafka, logLevel } from 'kafkajs'
import type { SqlDatabase } from '../../sql/database.ts'
import { komboResources, type KomboResource } from '../../schemas/kombo.ts'
import { changeTopic } from './kafka.ts'
import { migrateChangeLog } from './sql.ts'
import { KomboSyncError } from '../../errors/kombo-sync-error.ts'

/** Where to start again: an offset (per partition on Kafka, the log's sequence number on SQL), or the first record at or after a time. */
export type ReplayFrom = { offset: bigint } | { time: Date }

export interface ReplayedPosition {
  resource: KomboResource
  partition: number
  /** The next offset the group will read. */
  offset: string
}

/** The group still has running consumers: stop the processors, then replay. Retrying does not help until then. */
export class ConsumerGroupActiveError extends KomboSyncError {
  override name = 'ConsumerGroupActiveError'
  readonly retriable = false
  constructor(readonly group: string, options?: { cause?: unknown }) {
    super(`consumer group ${group} has running members: stop every processor before a replay`, options)
  }
}

export async function replayKafkaChangeLog(
  options: { brokers: string[]; clientId: string; topicPrefix?: string },
  group: string,
  from: ReplayFrom,
  resources: readonly KomboResource[] = komboResources,
): Promise<ReplayedPosition[]> {
  const prefix = options.topicPrefix ?? ''
  const groupId = `${prefix}${group}` // as the Kafka change log names it
  const kafka = new Kafka({ brokers: options.brokers, clientId: options.clientId, logLevel: logLevel.WARN })
  const admin = kafka.admin()
  await admin.connect()
  try {
    const [described] = (await admin.describeGroups([groupId])).groups
    if (described && described.members.length > 0) throw new ConsumerGroupActiveError(groupId)
    const out: ReplayedPosition[] = []
    for (const resource of resources) {
      const topic = changeTopic(resource, prefix)
      const ends = await admin.fetchTopicOffsets(topic)
      const partitions =
        'time' in from
          ? await admin.fetchTopicOffsetsByTimestamp(topic, from.time.getTime())
          : ends.map((end) => {
              // Clamped into what the partition holds: below `low` was deleted, above `high` is not written yet.
              const low = BigInt(end.low)
              const high = BigInt(end.high)
              const at = from.offset < low ? low : from.offset > high ? high : from.offset
              return { partition: end.partition, offset: at.toString() }
            })
      try {
        await admin.setOffsets({ groupId, topic, partitions })
      } catch (err) {
        if (/no running instances/.test((err as Error).message)) throw new ConsumerGroupActiveError(groupId, { cause: err })
        throw err
      }
      for (const p of partitions) out.push({ resource, partition: p.partition, offset: String(p.offset) })
    }
    return out
  } finally {
    await admin.disconnect()
  }
}

/** The SQL change log: the group's committed sequence per resource, set just before the replay point. */
export async function replaySqlChangeLog(
  db: SqlDatabase,
  group: string,
  from: ReplayFrom,
  resources: readonly KomboResource[] = komboResources,
): Promise<ReplayedPosition[]> {
  await migrateChangeLog(db)
  const out: ReplayedPosition[] = []
  await db.transaction(async (tx) => {
    for (const resource of resources) {
      let committed: bigint
      if ('time' in from) {
        const { rows } = await tx.query<{ seq: string | null }>(
          'SELECT max(seq) AS seq FROM change_log WHERE resource = $1 AND published_at < $2',
          [resource, from.time.toISOString()],
        )
        committed = rows[0]?.seq ? BigInt(rows[0].seq) : 0n
      } else {
        committed = from.offset > 0n ? from.offset - 1n : 0n
      }
      // A plain assignment (the consumer's own commits only move forwards).
      await tx.query(
        `INSERT INTO change_log_offsets (group_name, resource, committed_seq) VALUES ($1, $2, $3)
         ON CONFLICT (group_name, resource) DO UPDATE SET committed_seq = EXCLUDED.committed_seq`,
        [group, resource, committed.toString()],
      )
      out.push({ resource, partition: 0, offset: (committed + 1n).toString() })
    }
  })
  return out
}
