import t from 'tap'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import { openSqlViewStore } from '../projections/viewstore/sql.ts'
import { companyPhase } from '../test/support/employee-history.ts'
import { waitFor } from '../test/support/wait-for.ts'
import { sqlFeedCheckpoints } from '../projections/user-feed/checkpoints.ts'
import { UserFeedPublisher } from '../projections/user-feed/publisher.ts'
import type { UserFeedEvent } from '../schemas/user-feed.ts'
import { parseReplayArgs, replayUserFeed, UsageError } from './replay-commands.ts'
import { createLogger } from './logger.ts'

t.test('replay arguments: an offset or a time, an optional resource; anything else is a usage error', async (t) => {
  t.same(parseReplayArgs(['--from-offset', '0', '--resource', 'employees']), { from: { offset: 0n }, resources: ['employees'] })
  const byTime = parseReplayArgs(['--from-time', '2026-01-01T00:00:00Z'])
  t.same(byTime.from, { time: new Date('2026-01-01T00:00:00Z') })
  t.equal(byTime.resources.length, 6, 'every resource by default')
  t.throws(() => parseReplayArgs([]), UsageError)
  t.throws(() => parseReplayArgs(['--from-offset', '1', '--from-time', '2026-01-01T00:00:00Z']), UsageError)
  t.throws(() => parseReplayArgs(['--from-offset', '-3']), UsageError)
  t.throws(() => parseReplayArgs(['--from-time', 'yesterday']), UsageError)
  t.throws(() => parseReplayArgs(['--from-offset', '0', '--resource', 'payroll']), UsageError)
})

t.test('feed-replay moves the user-feed checkpoint: the next publisher re-sends what follows it', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlEventStore(db, { pollIntervalMs: 10 })
  await openSqlViewStore(db)
  const checkpoints = sqlFeedCheckpoints(db)
  const sent: UserFeedEvent[] = []
  const sink = { publish: async (events: UserFeedEvent[]) => void sent.push(...events), close: async () => {} }
  await companyPhase(store, 'acme', 0, 4)
  const all = await store.readAll()
  const end = all.at(-1)!.position
  const publishOnce = async () => {
    const publisher = new UserFeedPublisher({ store, sink, checkpoints })
    await publisher.start()
    await waitFor('caught up', () => publisher.position === end)
    await publisher.stop()
  }
  await publishOnce()
  const everything = sent.splice(0)
  const logger = createLogger('silent')

  const middle = all[Math.floor(all.length / 2)].position
  t.same(await replayUserFeed(['--from-position', middle.toString()], { db }, logger), { after: middle.toString() })
  await publishOnce()
  t.same(sent.splice(0), everything.filter((e) => BigInt(e.sourcePosition) > middle), 'only the events after the position, again')

  t.same(await replayUserFeed([], { db }, logger), { after: null })
  await publishOnce()
  t.same(sent, everything, 'from the start: the whole feed again, identical')
})
