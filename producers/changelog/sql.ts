// The change log as a table in the embedded database (PGlite) or a PostgreSQL server: the
// no-Kafka default. One ordered log (`seq`) for every resource; each consumer group keeps, per
// resource, the last seq whose batch its handler finished — at-least-once, like Kafka.
// Limits, by design: one partition, so one active consumer per group (a second consumer of the same
// group would get the same records); records are kept, never compacted.
import type { ChangeEnvelope } from '../../schemas/envelope.ts'
import { TRACEPARENT, type Traced } from '../../tracing/spans.ts'
import { changeKey } from '../../schemas/envelope.ts'
import { komboResources, type KomboResource } from '../../schemas/kombo.ts'
import { Wakeups } from '../../sql/wakeups.ts'
import type { SqlDatabase } from '../../sql/database.ts'
import type { ChangeLog, ChangeLogConsumer, ConsumedChange } from './port.ts'

// Publishes are serialised by this advisory lock so that seq order is commit order: a bigserial is
// taken at insert and seen at commit, so two concurrent publishers could commit seq 8 before 7, and a
// consumer that already committed 8 would never see 7. (PostgreSQL makes a commit visible before it
// releases the transaction's locks, so under the lock seqs become visible in increasing order.)
const PUBLISH_LOCK = 0x6b6f6d626f02
const MIGRATION_LOCK = 0x6b6f6d626f00
const ROWS_PER_INSERT = 1000

export interface SqlChangeLogOptions {
  /** How often an idle consumer looks for new records (local publishes wake it at once). */
  pollIntervalMs?: number
  /** Records per batch handed to the handler. */
  batchSize?: number
  /** First wait before redelivering a batch whose handler threw; doubles up to `maxRetryBackoffMs`. */
  retryBackoffMs?: number
  maxRetryBackoffMs?: number
}

export async function migrateChangeLog(db: SqlDatabase): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    // The record is stored once, as the bytes the consumer gets (`raw`); the value is decoded from it.
    await tx.query(`CREATE TABLE IF NOT EXISTS change_log (
      seq bigserial PRIMARY KEY,
      resource text NOT NULL,
      key text NOT NULL,
      raw bytea NOT NULL,
      published_at timestamptz NOT NULL DEFAULT now()
    )`)
    await tx.query('CREATE INDEX IF NOT EXISTS change_log_resource_seq ON change_log (resource, seq)')
    // tenantPending: a tenant's uncommitted records are one range scan per resource (keys are
    // `tenant:id` and tenant ids hold no ':', schemas/envelope.ts), however long the log is.
    await tx.query(`CREATE INDEX IF NOT EXISTS change_log_tenant_resource_seq ON change_log (split_part(key, ':', 1), resource, seq)`)
    // The record's W3C trace context (tracing/spans.ts), beside the bytes as Kafka keeps it in a header.
    await tx.query('ALTER TABLE change_log ADD COLUMN IF NOT EXISTS traceparent text')
    await tx.query(`CREATE TABLE IF NOT EXISTS change_log_offsets (
      group_name text NOT NULL,
      resource text NOT NULL,
      committed_seq bigint NOT NULL,
      PRIMARY KEY (group_name, resource)
    )`)
  })
}

interface ChangeRow {
  seq: string | number | bigint
  resource: KomboResource
  key: string
  /** The stored bytes as base64 (RAW_AS_TEXT). */
  raw: string
  traceparent: string | null
}

/**
 * The stored bytes, read as base64 text. A bytea column comes back hex-encoded and PGlite decodes
 * that in JavaScript: 100 change records of ~1 KB took 12.4 ms to read as bytea and 1.4 ms as
 * base64 (17.1 → 4.6 ms to insert, as text converted in SQL), measured on PGlite here. Base64,
 * not convert_from: any bytes round-trip, also ones that are not UTF-8 (delivered with a decodeError).
 */
const RAW_AS_TEXT = "encode(raw, 'base64') AS raw"

function toConsumed(row: ChangeRow): ConsumedChange {
  const raw = Buffer.from(row.raw, 'base64')
  const consumed: ConsumedChange = { resource: row.resource, key: row.key, partition: 0, offset: String(row.seq), value: undefined, raw }
  if (row.traceparent) consumed.traceparent = row.traceparent
  try {
    consumed.value = JSON.parse(raw.toString('utf8'))
  } catch (err) {
    consumed.decodeError = `not JSON: ${(err as Error).message}`
  }
  return consumed
}

const toError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)))

export async function openSqlChangeLog(db: SqlDatabase, options: SqlChangeLogOptions = {}): Promise<ChangeLog> {
  const pollIntervalMs = options.pollIntervalMs ?? 50
  // Big batches: the processor reads, decides and appends a batch with a fixed number of statements
  // (one read of its streams, one append), so records per batch is statements saved per record.
  const batchSize = options.batchSize ?? 1000
  const retryBackoffMs = options.retryBackoffMs ?? 500
  const maxRetryBackoffMs = options.maxRetryBackoffMs ?? 30_000
  await migrateChangeLog(db)

  // Wakes this process's idle consumers right after a local publish.
  const wakeups = new Wakeups()
  const consumers = new Set<ChangeLogConsumer>()

  async function publish(envelopes: Traced<ChangeEnvelope>[]): Promise<void> {
    if (envelopes.length === 0) return
    await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [PUBLISH_LOCK])
      for (let start = 0; start < envelopes.length; start += ROWS_PER_INSERT) {
        const params: unknown[] = []
        const values = envelopes.slice(start, start + ROWS_PER_INSERT).map((env) => {
          params.push(env.resource, changeKey(env.tenant, env.record.id), JSON.stringify(env), env[TRACEPARENT] ?? null)
          const b = params.length - 4
          // The JSON goes as text and becomes bytes in SQL: a bytea parameter travels as hex, which
          // PGlite encodes in JavaScript at ~4× the cost of the whole insert (see RAW_AS_TEXT).
          return `($${b + 1}, $${b + 2}, convert_to($${b + 3}, 'UTF8'), $${b + 4})`
        })
        await tx.query(`INSERT INTO change_log (resource, key, raw, traceparent) VALUES ${values.join(', ')}`, params)
      }
    })
    wakeups.wakeAll()
  }

  async function consume(
    group: string,
    handler: (batch: ConsumedChange[]) => Promise<void>,
    consumeOptions: { resources?: KomboResource[]; onError?: (err: Error) => void } = {},
  ): Promise<ChangeLogConsumer> {
    const resources = [...new Set(consumeOptions.resources ?? komboResources)]
    const committed = new Map<string, bigint>(resources.map((r) => [r, 0n]))
    const { rows } = await db.query<{ resource: string; committed_seq: string }>(
      'SELECT resource, committed_seq FROM change_log_offsets WHERE group_name = $1',
      [group],
    )
    for (const r of rows) if (committed.has(r.resource)) committed.set(r.resource, BigInt(r.committed_seq))

    let stopped = false
    const napper = wakeups.napper()
    const sleep = (ms: number) => napper.sleep(ms)

    const fetchBatch = async (): Promise<ConsumedChange[]> => {
      const params: unknown[] = [batchSize]
      const where = resources.map((r) => {
        params.push(r, String(committed.get(r)))
        return `(resource = $${params.length - 1} AND seq > $${params.length}::bigint)`
      })
      const res = await db.query<ChangeRow>(
        `SELECT seq, resource, key, ${RAW_AS_TEXT}, traceparent FROM change_log WHERE ${where.join(' OR ')} ORDER BY seq LIMIT $1`,
        params,
      )
      return res.rows.map(toConsumed)
    }

    const commit = async (batch: ConsumedChange[]) => {
      const upTo = new Map<string, bigint>()
      for (const c of batch) upTo.set(c.resource, BigInt(c.offset))
      const params: unknown[] = [group]
      const values = [...upTo].map(([resource, seq]) => {
        params.push(resource, String(seq))
        return `($1, $${params.length - 1}, $${params.length}::bigint)`
      })
      await db.query(
        `INSERT INTO change_log_offsets (group_name, resource, committed_seq) VALUES ${values.join(', ')}
         ON CONFLICT (group_name, resource) DO UPDATE SET committed_seq = GREATEST(change_log_offsets.committed_seq, EXCLUDED.committed_seq)`,
        params,
      )
      for (const [resource, seq] of upTo) committed.set(resource, seq)
    }

    const run = async () => {
      let backoff = retryBackoffMs
      while (!stopped) {
        try {
          const batch = await fetchBatch()
          if (batch.length === 0) {
            await sleep(pollIntervalMs)
            continue
          }
          if (stopped) return
          await handler(batch)
          await commit(batch)
          backoff = retryBackoffMs
        } catch (err) {
          // Nothing was committed for this batch, so the next fetch delivers it again.
          consumeOptions.onError?.(toError(err))
          await sleep(backoff)
          backoff = Math.min(backoff * 2, maxRetryBackoffMs)
        }
      }
    }
    const running = run()
    const consumer: ChangeLogConsumer = {
      async stop() {
        stopped = true
        napper.stop()
        consumers.delete(consumer)
        await running
      },
    }
    consumers.add(consumer)
    return consumer
  }

  return {
    publish,
    consume,
    async pending(group, resources = [...komboResources]) {
      // Per resource, past its committed seq, as one range of change_log_resource_seq: the bound is
      // a row comparison so that only that index can take it (see tenantPending).
      const { rows } = await db.query<{ pending: string }>(
        `SELECT COALESCE(sum(n), 0) AS pending FROM (
           SELECT (SELECT count(*) FROM change_log l
                   WHERE l.resource = r.resource
                     AND (l.resource, l.seq) > (r.resource, COALESCE((SELECT committed_seq FROM change_log_offsets o WHERE o.group_name = $1 AND o.resource = r.resource), 0))) AS n
           FROM unnest($2::text[]) AS r(resource)) per_resource`,
        [group, [...new Set(resources)]],
      )
      return Number(rows[0].pending)
    },
    async tenantPending(group, tenant) {
      // Per resource, past that resource's committed seq: one range of change_log_tenant_resource_seq.
      // The bound is a row comparison over that index's columns: written as `l.seq > committed`
      // the planner, which cannot know the committed seq when it plans, took the primary key's
      // range instead and filtered it, which for a resource committed long ago (groups, at the
      // start of the log) is the whole log since: 17 ms a call at 1,000 changes/s in the embedded
      // steady state, and growing with the log (docs/benchmarks.md, "fixed-rate rounds").
      const { rows } = await db.query<{ pending: string }>(
        `SELECT COALESCE(sum(n), 0) AS pending FROM (
           SELECT (SELECT count(*) FROM change_log l
                   WHERE split_part(l.key, ':', 1) = $2 AND l.resource = r.resource
                     AND (split_part(l.key, ':', 1), l.resource, l.seq) > ($2, r.resource, COALESCE((SELECT committed_seq FROM change_log_offsets o WHERE o.group_name = $1 AND o.resource = r.resource), 0))) AS n
           FROM unnest($3::text[]) AS r(resource)) per_resource`,
        [group, tenant, [...komboResources]],
      )
      return Number(rows[0].pending)
    },
    /** Stops every consumer; the database belongs to the caller and stays open. */
    async close() {
      await Promise.all([...consumers].map((c) => c.stop()))
    },
  }
}
