// Which database errors are an outage (retry, never dead-letter) and which are a record's own.
import t from 'tap'
import { isDatabaseUnavailable } from './unavailable.ts'

const pgError = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {})

t.test('an outage: refused, terminated, at its limit, starting up, or a connection that could not be made', async (t) => {
  t.ok(isDatabaseUnavailable(pgError('database "v" is not currently accepting connections', '55000')))
  t.ok(isDatabaseUnavailable(pgError('terminating connection due to administrator command', '57P01')))
  t.ok(isDatabaseUnavailable(pgError('the database system is starting up', '57P03')))
  t.ok(isDatabaseUnavailable(pgError('sorry, too many clients already', '53300')))
  t.ok(isDatabaseUnavailable(pgError('connection failure', '08006')))
  t.ok(isDatabaseUnavailable(pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')))
  t.ok(isDatabaseUnavailable(pgError('Connection terminated unexpectedly')))
  t.ok(isDatabaseUnavailable(pgError('timeout exceeded when trying to connect')))
  t.ok(isDatabaseUnavailable(new Error('append failed', { cause: pgError('connect ECONNREFUSED', 'ECONNREFUSED') })), 'through a cause')
})

t.test("a record's own failure is not an outage", async (t) => {
  t.notOk(isDatabaseUnavailable(pgError('invalid input syntax for type uuid: "x"', '22P02')))
  t.notOk(isDatabaseUnavailable(pgError('duplicate key value violates unique constraint "events_pkey"', '23505')))
  t.notOk(isDatabaseUnavailable(pgError('unsupported Unicode escape sequence', '22P05')))
  t.notOk(isDatabaseUnavailable(new Error('cannot fold 5')))
  t.notOk(isDatabaseUnavailable('not an error'))
})
