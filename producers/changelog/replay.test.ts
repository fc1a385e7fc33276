import t from 'tap'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openSqlEventStore } from '../../processors/eventstore/sql.ts'
import { openSqlChangeLog } from './sql.ts'
import { openSqlDeadLetterStore } from './sql-dead-letters.ts'
import { replaySqlChangeLog } from './replay.ts'
import { replayIsIdempotent } from '../../test/support/change-log-replay.ts'

t.test('SQL change log: a replay from offset 0 re-delivers every record and appends nothing new', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const changeLog = await openSqlChangeLog(db, { pollIntervalMs: 10 })
  t.teardown(() => changeLog.close())
  const store = await openSqlEventStore(db)
  const deadLetters = await openSqlDeadLetterStore(db)
  await replayIsIdempotent(t, { changeLog, store, deadLetters, group: 'processor' }, (from) => replaySqlChangeLog(db, 'processor', from, ['employees']))
})
