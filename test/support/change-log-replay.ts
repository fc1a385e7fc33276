// The replay story, on any change log adapter: process a few changes, stop, move the group back
// to the start, process again — every record is delivered again and the store gains nothing.
import type { Test } from 'tap'
import type { ChangeLog, DeadLetterStore } from '../../producers/changelog/port.ts'
import type { EventStore } from '../../processors/eventstore/port.ts'
import { processChanges } from '../../processors/process-changes.ts'
import type { ReplayFrom, ReplayedPosition } from '../../producers/changelog/replay.ts'
import { anEmployee, later } from './kombo-fixtures.ts'
import { waitFor } from './wait-for.ts'
import { settingsWith } from './tenant-settings.ts'

export async function replayIsIdempotent(
  t: Test,
  deps: { changeLog: ChangeLog; store: EventStore; deadLetters: DeadLetterStore; group: string },
  replay: (from: ReplayFrom) => Promise<ReplayedPosition[]>,
): Promise<void> {
  const { changeLog, store, deadLetters, group } = deps
  const envelopes = Array.from({ length: 6 }, (_, i) => ({
    tenant: 'acme',
    integrationId: 'acme-int',
    resource: 'employees' as const,
    fetchedAt: later(1),
    pollId: 'poll-1',
    record: anEmployee({ id: `emp-${i}`, work_email: `r${i}@example.test`, changed_at: later(i % 2) }),
  }))
  await changeLog.publish(envelopes)
  const startedAt = new Date()

  let delivered = 0
  const run = async () =>
    changeLog.consume(group, async (batch) => {
      delivered += batch.length
      await processChanges(batch, { store, deadLetters, tenantSettingsOf: () => settingsWith({ mode: 'immediate' }), now: () => new Date('2026-01-11T00:00:00.000Z') })
    }, { resources: ['employees'] })

  const first = await run()
  await waitFor('first pass', async () => (await changeLog.pending(group, ['employees'])) === 0 && delivered >= envelopes.length, 30_000)
  await first.stop()
  const eventsBefore = (await store.readAll()).length
  t.ok(eventsBefore > 0, 'the first pass appended events')

  const positions = await replay({ offset: 0n })
  t.ok(positions.length > 0 && positions.every((p) => p.resource !== undefined), 'offsets moved')
  t.equal(await changeLog.pending(group, ['employees']), envelopes.length, 'every record is pending again')

  delivered = 0
  const second = await run()
  await waitFor('replayed', async () => (await changeLog.pending(group, ['employees'])) === 0 && delivered >= envelopes.length, 30_000)
  await second.stop()
  t.equal(delivered, envelopes.length, 'every record was delivered again')
  t.equal((await store.readAll()).length, eventsBefore, 'a replay appends no new events')

  // From a time after everything was published: nothing to re-read.
  await replay({ time: new Date(Math.max(Date.now(), startedAt.getTime()) + 60_000) })
  t.equal(await changeLog.pending(group, ['employees']), 0, 'a replay from the future leaves nothing pending')
  // From a time before: everything again.
  await replay({ time: new Date(startedAt.getTime() - 3_600_000) })
  t.equal(await changeLog.pending(group, ['employees']), envelopes.length, 'a replay from an earlier time re-reads everything')
}
