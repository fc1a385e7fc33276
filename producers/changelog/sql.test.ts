// The change-log contract on the SQL adapter, on embedded PGlite and on the PostgreSQL server.
import t from 'tap'
import { openSqlChangeLog } from './sql.ts'
import { forEachSqlDriver } from '../../test/support/sql-drivers.ts'
import { runChangeLogContract } from '../../test/contracts/change-log.contract.ts'

forEachSqlDriver(t, (t, db) => {
  const open = async () => {
    const log = await openSqlChangeLog(db, { pollIntervalMs: 20, retryBackoffMs: 20 })
    return { log, cleanup: () => log.close() }
  }
  runChangeLogContract(t, open)

  t.test('stored bytes that are not JSON arrive with a decodeError', async (t) => {
    const { log, cleanup } = await open()
    t.teardown(cleanup)
    // Only a broken writer (or a hand edit) can put such bytes there; the consumer must not choke.
    await db.query(`INSERT INTO change_log (resource, key, raw) VALUES ('absences', 'broken:1', $1::bytea)`, [Buffer.from([0x7b, 0xff, 0x00])])
    const seen: Array<{ decodeError?: string; raw: Buffer }> = []
    const consumer = await log.consume('decode-errors', async (batch) => {
      seen.push(...batch.filter((c) => c.key === 'broken:1'))
    }, { resources: ['absences'] })
    const deadline = Date.now() + 10_000
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    await consumer.stop()
    t.equal(seen.length, 1)
    t.match(seen[0].decodeError, /not JSON/)
    t.ok(seen[0].raw.equals(Buffer.from([0x7b, 0xff, 0x00])), 'the bytes are kept for the dead-letter store')
  })
})
