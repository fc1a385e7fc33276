// Given / when / then over events for the Learn Amp views projection: the events the store already
// held (applied in one batch), then the new events (a later batch), then what the read side serves.
// Drives `applyEvents` on an in-memory PGlite view store, exactly as the projector does, without a
// store or a subscription in between.
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openSqlViewStore, type SqlViewStore } from '../../projections/viewstore/sql.ts'
import { applyEvents } from '../../projections/apply-events.ts'
import type { RecordedEvent } from '../../processors/eventstore/port.ts'
import type { DomainEventShape } from '../../processors/domain/decider.ts'

/** An event of one stream, as a specification writes it. */
export type StreamEvent = readonly [streamName: string, event: DomainEventShape]

export async function projectionSpecification(t: Test) {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const views = await openSqlViewStore(db)
  let position = 0n
  const revisions = new Map<string, bigint>()
  // Each batch is recorded (and decided for) one minute after the previous one.
  let at = Date.parse('2026-02-01T00:00:00Z')
  const record = (events: readonly StreamEvent[]): RecordedEvent[] => {
    at += 60_000
    return events.map(([streamName, e]) => {
      const revision = (revisions.get(streamName) ?? -1n) + 1n
      revisions.set(streamName, revision)
      return { id: randomUUID(), type: e.type, data: e.data, streamName, revision, position: ++position, metadata: { decidedAt: new Date(at).toISOString() }, recordedAt: new Date(at) }
    })
  }
  const apply = (events: readonly StreamEvent[]) => views.transaction((tx) => applyEvents(tx, record(events)))
  return {
    views,
    /** Each argument is one batch (one transaction), applied in order. */
    given: (...given: ReadonlyArray<readonly StreamEvent[]>) => ({
      when: (...when: ReadonlyArray<readonly StreamEvent[]>) => ({
        async then(check: (views: SqlViewStore) => Promise<void>): Promise<void> {
          for (const batch of [...given, ...when]) await apply(batch)
          await check(views)
        },
      }),
    }),
  }
}
