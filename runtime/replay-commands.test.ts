import t from 'tap'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import { openSqlViewStore } from '../projections/viewstore/sql.ts'
import { companyPhase } from '../test/support/employee-history.ts'
import { waitFor } from '../test/support/wait-for.ts'
import { sqlFeedCheckpoints } from '../projections/user-feed/checkpoints.ts'
import { UserFeedPublisher } from '../projections/user-feed/publisher.ts'
import type { UserFeedEvent } from '../schemas/user-feed.ts'
import { parseReplayArgs, replayChangeLog, replayUserFeed, UsageError } from './replay-commands.ts'
import { createLogger } from './logger.ts'
import { openSqlChangeLog } from '../producers/changelog/sql.ts'
import { anEmployee, later } from '../test/support/kombo-fixtures.ts'
import { loadConfig } from '../config/config.ts'
import { capturedLogger } from '../test/support/captured-logger.ts'

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

t.test('replay --follow logs the processors\' progress through the replayed records until they have caught up', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const changeLog = await openSqlChangeLog(db, { pollIntervalMs: 10 })
  t.teardown(() => changeLog.close())
  const group = 'processor'
  await changeLog.publish(
    Array.from({ length: 30 }, (_, i) => ({
      tenant: 'acme',
      integrationId: 'acme-int',
      resource: 'employees' as const,
      fetchedAt: later(1),
      pollId: 'poll-1',
      record: anEmployee({ id: `emp-${i}`, work_email: `r${i}@example.test` }),
    })),
  )
  const consumed = async (during: () => Promise<unknown>) => {
    const consumer = await changeLog.consume(group, async () => {}, { resources: ['employees'] })
    try {
      return await during()
    } finally {
      await consumer.stop()
    }
  }
  await consumed(() => waitFor('first pass', async () => (await changeLog.pending(group, ['employees'])) === 0, 30_000))

  let clock = 0
  const { lines, logger } = capturedLogger()
  const config = loadConfig({ DEMO_API_TOKEN: 'replay-follow-token-0123' }, 'all', { demoToken: () => '' })
  const replaying = replayChangeLog(['--from-offset', '0', '--resource', 'employees', '--follow'], config, { db, changeLog }, group, logger, {
    intervalMs: 5,
    pollMs: 5,
    now: () => clock,
  })
  // The processors are still stopped: the follower says nothing has been re-read yet.
  await waitFor('a line before the processors start', () => lines.some((l) => l.msg.startsWith('replay: ')), 10_000)
  t.equal(lines.find((l) => l.msg.startsWith('replay: '))!.msg, 'replay: 0 of 30 records · 0% · 0 records/s · ETA unknown')
  clock = 10_000 // the processors take ten seconds, on the test's clock
  const positions = await consumed(() => replaying)
  t.same(positions, [{ resource: 'employees', partition: 0, offset: '1' }])
  const progress = lines.filter((l) => l.msg.startsWith('replay: ')).map((l) => l.msg)
  t.equal(progress.at(-1), 'replay: 30 of 30 records · 100% · 3 records/s · ETA 0s', 'the last line: everything, 30 in 10 s')
  t.match(lines.at(-1), { msg: /re-read everything/, records: 30 })
})

t.test('replay without --follow only moves the offsets', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const changeLog = await openSqlChangeLog(db, { pollIntervalMs: 10 })
  t.teardown(() => changeLog.close())
  const { lines, logger } = capturedLogger()
  const config = loadConfig({ DEMO_API_TOKEN: 'replay-follow-token-0123' }, 'all', { demoToken: () => '' })
  await replayChangeLog(['--from-offset', '0'], config, { db, changeLog }, 'processor', logger)
  t.same(lines.map((l) => l.msg), ['change log replay: processors will re-read from these offsets when they start'])
})
