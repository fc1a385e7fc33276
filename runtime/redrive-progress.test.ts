// `redrive` of many dead letters logs how far it has come, as a rebuild does.
import t from 'tap'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlChangeLog } from '../producers/changelog/sql.ts'
import { openSqlDeadLetterStore } from '../producers/changelog/sql-dead-letters.ts'
import { anEmployee, later } from '../test/support/kombo-fixtures.ts'
import { capturedLogger } from '../test/support/captured-logger.ts'
import { redriveWithProgress } from './admin.ts'

t.test('redrive logs progress lines with percent, rate and ETA, then the result', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const changeLog = await openSqlChangeLog(db, { pollIntervalMs: 10 })
  t.teardown(() => changeLog.close())
  const store = await openSqlDeadLetterStore(db)
  for (let i = 0; i < 8; i++) {
    const envelope = { tenant: 'acme', integrationId: 'acme-int', resource: 'employees', fetchedAt: later(1), pollId: 'p', record: anEmployee({ id: `emp-${i}` }) }
    await store.put({ reason: 'unknown tenant', origin: { stage: 'processor', resource: 'employees' }, key: `acme:emp-${i}`, raw: Buffer.from(JSON.stringify(envelope)) })
  }
  // One that cannot be re-driven still counts as through.
  await store.put({ reason: 'too deep', origin: { stage: 'poller', resource: 'employees' }, key: 'acme:deep', raw: Buffer.from('{}') })

  // Each publish takes two seconds on the test's clock and a little real time, so the timer fires between letters.
  let clock = 0
  const deadLetters = {
    ...store,
    list: store.list.bind(store),
    put: store.put.bind(store),
    markRedriven: async (id: string) => {
      clock += 2_000
      await new Promise((resolve) => setTimeout(resolve, 15))
      return store.markRedriven(id)
    },
  } as typeof store
  const { lines, logger } = capturedLogger()
  const result = await redriveWithProgress({ deadLetters, changeLog }, null, {}, logger, { intervalMs: 5, now: () => clock })
  t.equal(result.redriven.length, 8)
  t.equal(result.failed.length, 1)

  const progress = lines.filter((l) => l.msg.startsWith('redrive: ')).map((l) => l.msg)
  t.ok(progress.length >= 3, `${progress.length} progress lines while it ran`)
  const middle = progress.find((m) => / [1-7] of 9 /.test(m))
  t.ok(middle, 'a line from the middle of the work')
  const [, done] = / (\d) of 9 /.exec(middle!)!
  const expectedPercent = Math.round((Number(done) / 9) * 1000) / 10
  t.match(middle, new RegExp(`^redrive: ${done} of 9 dead letters · ${expectedPercent}% · \\d+(\\.\\d)? dead letters/s · ETA \\d+s$`))
  // 9 through (the poller's letter takes no clock time) in 16 s on the test's clock: rate 0.5625, shown rounded.
  t.equal(progress.at(-1), 'redrive: 9 of 9 dead letters · 100% · 1 dead letters/s · ETA 0s')
  t.match(lines.at(-1), { msg: 'dead letters re-driven' })
  t.equal((await store.list({ includeRedriven: false })).length, 1, 'only the poller letter is left pending')
})
