// A rebuild drops the change log's secondary indexes while it loads and builds them once at the
// end. Whatever happens in between, the indexes come back: after the rebuild, after a failed
// rebuild, and after one interrupted for good (the next open of the view store restores them).
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { openPgliteDatabase } from '../../sql/pglite.ts'
import { openSqlEventStore } from '../../processors/eventstore/sql.ts'
import { openSqlViewStore } from './sql.ts'
import { changeLogSecondaryIndexes } from '../audit/change-log-store.ts'
import { rebuildViews } from '../../runtime/admin.ts'
import { createLogger } from '../../runtime/logger.ts'
import type { Stores } from '../../runtime/stores.ts'
import type { SqlQueryable } from '../../sql/database.ts'
import { employeeStreamName } from '../../schemas/streams.ts'

const indexesOf = async (db: SqlQueryable): Promise<string[]> =>
  (await db.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_changes' ORDER BY indexname")).rows.map((r) => r.indexname)
const all = [...changeLogSecondaryIndexes, 'audit_changes_pkey'].sort()

t.test('suspended indexes are back after the next open (an interrupted rebuild)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kombo-sync-rebuild-indexes-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const db = await openPgliteDatabase(join(dir, 'db'))
  const views = await openSqlViewStore(db)
  t.same(await indexesOf(db), all, 'a fresh view store has the primary key and four secondary indexes')
  await views.suspendIndexes()
  t.same(await indexesOf(db), ['audit_changes_pkey'], 'suspended: only the primary key is left')
  await db.close() // the process dies mid-rebuild

  const reopened = await openPgliteDatabase(join(dir, 'db'))
  t.teardown(() => reopened.close())
  await openSqlViewStore(reopened)
  t.same(await indexesOf(reopened), all, 'the next open restores every index')
})

t.test('a rebuild restores the indexes, also when it fails', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlEventStore(db)
  t.teardown(() => store.close())
  const views = await openSqlViewStore(db)
  const record = { id: 'e1', first_name: 'Ada', last_name: 'L', work_email: 'ada@acme.test', changed_at: '2026-01-01T00:00:00.000Z' }
  await store.appendToStream(employeeStreamName('acme', 'e1'), [{ id: randomUUID(), type: 'EmployeeImported', data: { record }, metadata: {} }])

  let dropped: string[] | null = null
  const observing = { ...views, restoreIndexes: async () => ((dropped ??= await indexesOf(db)), views.restoreIndexes()) }
  await rebuildViews({ eventStore: store, views: observing } as unknown as Stores, createLogger('silent'))
  t.same(dropped, ['audit_changes_pkey'], 'the rebuild loaded with the secondary indexes dropped')
  t.same(await indexesOf(db), all, 'and built them again at the end')

  const failing = { ...store, readAllBackwards: () => Promise.reject(new Error('the event store went away')) }
  await t.rejects(rebuildViews({ eventStore: failing, views } as unknown as Stores, createLogger('silent')), /went away/, 'a failed rebuild reports its error')
  t.same(await indexesOf(db), all, 'and leaves the indexes in place')
})
