// The change-log contract: one suite, run by every adapter's test file (the SQL table on PGlite and
// PostgreSQL, Kafka on a real broker). The log may already hold records of other runs (a shared
// broker keeps its topics), so every subtest publishes under a fresh tenant, consumes with fresh
// group names, and only asserts on the records of its own tenant.
import type { Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { changeKey, type ChangeEnvelope } from '../../schemas/envelope.ts'
import type { KomboResource } from '../../schemas/kombo.ts'
import type { ChangeLog, ChangeLogConsumer, ConsumedChange } from '../../producers/changelog/port.ts'
import { TRACEPARENT, type Traced } from '../../tracing/spans.ts'
import { settle, waitFor } from '../support/wait-for.ts'

export type OpenChangeLog = () => Promise<{ log: ChangeLog; cleanup: () => Promise<void> }>

// Kafka consumers take a few seconds to join a group; the bound is generous, not a speed claim.
const DELIVERY_TIMEOUT_MS = 60_000

const fresh = (what: string) => `${what}${randomBytes(5).toString('hex')}`

/** An envelope whose record carries its version (in `job_title` and `changed_at`) for order checks. */
function envelope(tenant: string, resource: KomboResource, id: string, version: number, extra: Record<string, unknown> = {}): ChangeEnvelope {
  const changedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, version)).toISOString()
  return {
    tenant,
    integrationId: `${tenant}-integration`,
    resource,
    fetchedAt: changedAt,
    pollId: `poll-${version}`,
    record:
      resource === 'employees'
        ? { id, changed_at: changedAt, first_name: 'Ann', last_name: 'Example', job_title: `v${version}`, ...extra }
        : { id, changed_at: changedAt, name: `v${version}`, ...extra },
  }
}

type Env = { tenant?: string; record?: { id?: string; job_title?: string; name?: string } }
const valueOf = (c: ConsumedChange) => c.value as Env
const isOf = (tenant: string) => (c: ConsumedChange) => valueOf(c)?.tenant === tenant
const versionOf = (c: ConsumedChange) => Number((valueOf(c).record?.job_title ?? valueOf(c).record?.name ?? 'v-1').slice(1))
/** Identity of one published record: its key and version. */
const idOf = (c: ConsumedChange) => `${c.resource}/${c.key}#${versionOf(c)}`

/** Records of three keys, `versions` each, interleaved by version as a poller would publish them. */
function interleaved(tenant: string, keys: string[], versions: number[], resource: KomboResource = 'employees'): ChangeEnvelope[] {
  return versions.flatMap((v) => keys.map((k) => envelope(tenant, resource, k, v)))
}

export function runChangeLogContract(t: Test, open: OpenChangeLog): void {
  const logFor = async (t: Test): Promise<ChangeLog> => {
    const { log, cleanup } = await open()
    t.teardown(cleanup)
    return log
  }

  /** Consumes `group`, keeping the records of `tenant` in delivery order. */
  const collect = async (
    t: Test,
    log: ChangeLog,
    group: string,
    tenant: string,
    options: { resources?: KomboResource[] } = {},
  ): Promise<{ seen: ConsumedChange[]; consumer: ChangeLogConsumer }> => {
    const seen: ConsumedChange[] = []
    const consumer = await log.consume(
      group,
      async (batch) => {
        seen.push(...batch.filter(isOf(tenant)))
      },
      options,
    )
    t.teardown(() => consumer.stop())
    return { seen, consumer }
  }

  const distinct = (list: ConsumedChange[]) => new Set(list.map(idOf))

  t.test('every record is delivered, in order per key', async (t) => {
    const log = await logFor(t)
    const tenant = fresh('c')
    const keys = ['e1', 'e2', 'e3']
    await log.publish(interleaved(tenant, keys, [0, 1]))
    await log.publish(interleaved(tenant, keys, [2, 3]))
    const { seen, consumer } = await collect(t, log, fresh('group-'), tenant)
    await waitFor('12 records', () => distinct(seen).size >= 12, DELIVERY_TIMEOUT_MS)
    await consumer.stop()
    for (const k of keys) {
      const key = changeKey(tenant, k)
      const versions = seen.filter((c) => c.key === key).map(versionOf)
      const firstSightings = versions.filter((v, i) => versions.indexOf(v) === i)
      t.same(firstSightings, [0, 1, 2, 3], `${k}: versions in publish order`)
    }
    for (const c of seen) {
      t.equal(c.resource, 'employees')
      t.equal(c.key, changeKey(tenant, valueOf(c).record!.id!), 'the key is tenant:komboId')
      t.equal(typeof c.partition, 'number')
      t.match(c.offset, /^\d+$/, 'the offset is a decimal string')
      t.equal(c.decodeError, undefined)
    }
  })

  t.test("a record's trace context travels beside it, not inside it", async (t) => {
    const log = await logFor(t)
    const tenant = fresh('c')
    const traced: Traced<ChangeEnvelope> = envelope(tenant, 'employees', 'e1', 0)
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    traced[TRACEPARENT] = traceparent
    await log.publish([traced, envelope(tenant, 'employees', 'e2', 0)])
    const { seen, consumer } = await collect(t, log, fresh('group-'), tenant)
    await waitFor('2 records', () => distinct(seen).size >= 2, DELIVERY_TIMEOUT_MS)
    await consumer.stop()
    const [withTrace] = seen.filter((c) => valueOf(c).record?.id === 'e1')
    const [withoutTrace] = seen.filter((c) => valueOf(c).record?.id === 'e2')
    t.equal(withTrace.traceparent, traceparent, 'the traceparent comes back with the record')
    t.equal(withoutTrace.traceparent, undefined, 'a record published without one has none')
    t.notOk(JSON.stringify(withTrace.value).includes(traceparent), 'the envelope itself does not carry it')
  })

  t.test('a handler that throws gets the same records again', async (t) => {
    const log = await logFor(t)
    const tenant = fresh('c')
    await log.publish(interleaved(tenant, ['e1', 'e2'], [0, 1, 2]))
    const failed: string[] = []
    const after: ConsumedChange[] = []
    const errors: Error[] = []
    let thrown = false
    const consumer = await log.consume(
      fresh('group-'),
      async (batch) => {
        const ours = batch.filter(isOf(tenant))
        if (!thrown && ours.length > 0) {
          thrown = true
          failed.push(...ours.map(idOf))
          throw new Error('handler failed on purpose')
        }
        after.push(...ours)
      },
      { onError: (err) => errors.push(err) },
    )
    t.teardown(() => consumer.stop())
    await waitFor('all 6 records after the failure', () => distinct(after).size >= 6, DELIVERY_TIMEOUT_MS)
    await consumer.stop()
    t.ok(failed.length > 0, 'the first batch failed')
    const redelivered = distinct(after)
    t.ok(failed.every((id) => redelivered.has(id)), 'every record of the failed batch was delivered again')
    t.ok(errors.length >= 1, 'the failure was reported through onError')
  })

  t.test('a new consumer of the group resumes after the committed records', async (t) => {
    const log = await logFor(t)
    const tenant = fresh('c')
    const group = fresh('group-')
    await log.publish(interleaved(tenant, ['e1', 'e2'], [0, 1]))
    const first = await collect(t, log, group, tenant)
    await waitFor('the first 4 records', () => distinct(first.seen).size >= 4, DELIVERY_TIMEOUT_MS)
    await first.consumer.stop()

    await log.publish(interleaved(tenant, ['e1', 'e2'], [2, 3]))
    const second = await collect(t, log, group, tenant)
    await waitFor('the next 4 records', () => distinct(second.seen).size >= 4, DELIVERY_TIMEOUT_MS)
    await settle(100)
    await second.consumer.stop()
    t.same([...distinct(second.seen)].sort(), interleavedIds(tenant, ['e1', 'e2'], [2, 3]).sort(), 'only the new records')
    t.notOk(second.seen.some((c) => versionOf(c) < 2), 'committed records are not delivered again')
  })

  t.test('stop() waits for the batch in flight', async (t) => {
    const log = await logFor(t)
    const tenant = fresh('c')
    await log.publish(interleaved(tenant, ['e1'], [0]))
    let release!: () => void
    const blocked = new Promise<void>((resolve) => (release = resolve))
    let started = false
    let finished = false
    const consumer = await log.consume(fresh('group-'), async (batch) => {
      if (!batch.some(isOf(tenant))) return
      started = true
      await blocked
      finished = true
    })
    await waitFor('the handler to start', () => started, DELIVERY_TIMEOUT_MS)
    let stopped = false
    const stopping = consumer.stop().then(() => (stopped = true))
    await settle(50)
    t.equal(stopped, false, 'stop() has not resolved while the handler runs')
    release()
    await stopping
    t.equal(finished, true, 'the batch in flight finished before stop() resolved')
  })

  t.test('pending() counts what a group has not committed, down to zero once consumed', async (t) => {
    const log = await logFor(t)
    const tenant = fresh('t')
    const group = fresh('pending-')
    const resources: KomboResource[] = ['absence-types']
    const before = await log.pending(group, resources)
    await log.publish(interleaved(tenant, ['a', 'b'], [1, 2], 'absence-types'))
    t.equal(await log.pending(group, resources), before + 4, 'the four new records are pending for a new group')
    const { seen } = await collect(t, log, group, tenant, { resources })
    await waitFor('the group to consume its records', () => seen.length >= 4, DELIVERY_TIMEOUT_MS)
    await waitFor('the group to commit everything', async () => (await log.pending(group, resources)) === 0, DELIVERY_TIMEOUT_MS, 50)
    t.pass('nothing pending after consumption')
  })

  t.test("tenantPending() counts one tenant's uncommitted records, down to zero once consumed", async (t) => {
    const log = await logFor(t)
    const tenant = fresh('t')
    const other = fresh('o')
    const group = fresh('tenant-pending-')
    // The backlog budget asks before it lets a tenant's first page through (the Kafka adapter
    // counts what it published from the first ask on), as here.
    t.equal(await log.tenantPending(group, tenant), 0, 'nothing published yet')
    t.equal(await log.tenantPending(group, other), 0)
    await log.publish([...interleaved(tenant, ['a', 'b'], [1, 2]), ...interleaved(tenant, ['g'], [1], 'groups')])
    await log.publish(interleaved(other, ['a'], [1]))
    t.equal(await log.tenantPending(group, tenant), 5, "the tenant's five records over two resources")
    t.equal(await log.tenantPending(group, other), 1, "another tenant's records are not counted")
    const { seen } = await collect(t, log, group, tenant)
    await waitFor('the group to consume the records', () => distinct(seen).size >= 5, DELIVERY_TIMEOUT_MS)
    await waitFor('the group to commit them', async () => (await log.tenantPending(group, tenant)) === 0, DELIVERY_TIMEOUT_MS, 50)
    t.pass('nothing pending for the tenant once its records were committed')
  })

  t.test('two groups each see every record', async (t) => {
    const log = await logFor(t)
    const tenant = fresh('c')
    await log.publish(interleaved(tenant, ['e1', 'e2', 'e3'], [0, 1]))
    const a = await collect(t, log, fresh('group-a-'), tenant)
    const b = await collect(t, log, fresh('group-b-'), tenant)
    await waitFor('group a', () => distinct(a.seen).size >= 6, DELIVERY_TIMEOUT_MS)
    await waitFor('group b', () => distinct(b.seen).size >= 6, DELIVERY_TIMEOUT_MS)
    await Promise.all([a.consumer.stop(), b.consumer.stop()])
    t.same([...distinct(a.seen)].sort(), [...distinct(b.seen)].sort(), 'both groups got the same records')
  })

  t.test('a consumer with a resources filter gets only those resources', async (t) => {
    const log = await logFor(t)
    const tenant = fresh('c')
    await log.publish(interleaved(tenant, ['e1', 'e2'], [0], 'employees'))
    await log.publish(interleaved(tenant, ['g1', 'g2'], [0, 1], 'groups'))
    const { seen, consumer } = await collect(t, log, fresh('group-'), tenant, { resources: ['groups'] })
    await waitFor('the 4 group records', () => distinct(seen).size >= 4, DELIVERY_TIMEOUT_MS)
    await settle(100)
    await consumer.stop()
    t.ok(seen.length >= 4 && seen.every((c) => c.resource === 'groups'), 'only groups were delivered')
    t.ok(seen.every((c) => valueOf(c).record?.name?.startsWith('v')), 'the values are group records')
  })

  t.test('values round-trip and the stored bytes are kept', async (t) => {
    const log = await logFor(t)
    const tenant = fresh('c')
    const unicode = 'Zoë Ünïcødé 😀 — 日本語'
    const published = envelope(tenant, 'employees', 'e1', 0, {
      display_full_name: unicode,
      custom_fields: { nested: { list: [1, 'two', null, true] }, quote: 'a "b" \\ c' },
    })
    await log.publish([published])
    const { seen, consumer } = await collect(t, log, fresh('group-'), tenant)
    await waitFor('the record', () => seen.length >= 1, DELIVERY_TIMEOUT_MS)
    await consumer.stop()
    const [c] = seen
    t.same(c.value, published, 'the decoded value equals the published envelope')
    t.ok(Buffer.isBuffer(c.raw) && c.raw.length > 0, 'raw is a non-empty Buffer')
    t.ok(c.raw.includes(Buffer.from(unicode, 'utf8')), 'raw holds the UTF-8 bytes of the record as stored')
  })
}

function interleavedIds(tenant: string, keys: string[], versions: number[]): string[] {
  return versions.flatMap((v) => keys.map((k) => `employees/${changeKey(tenant, k)}#${v}`))
}
