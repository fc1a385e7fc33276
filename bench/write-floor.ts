// The write floor of an initial sync (issue 10's baseline): the rows the pipeline itself ended up
// writing — change log, events, views, audit log, sync state, keys: every row of every table in its
// database — inserted again, in the same store and the same run, in multi-row INSERTs of 1,000
// rows into empty copies of the tables (`LIKE … INCLUDING ALL`: same columns, defaults, indexes
// and constraints; no triggers). What that takes is what any pipeline writing these rows to this
// store must spend at least, so `floor time / pipeline time` says how close the pipeline is to its
// store. Reading the rows back out (as text, keyset-paged by ctid) is set-up and not timed.
import type { SqlDatabase } from '../sql/database.ts'

export const FLOOR_ROWS_PER_INSERT = 1000

export interface WriteFloor {
  rows: number
  ms: number
  /** Rows per table, biggest first: what the floor consists of. */
  tables: Array<{ table: string; rows: number }>
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`

async function copyTable(db: SqlDatabase, table: string, keep: boolean): Promise<{ rows: number; ms: number }> {
  try {
    return await copyRows(db, table, 'utf8', keep)
  } catch (err) {
    // A bytea column holding bytes that are not UTF-8 text: the slower base64 way for this table.
    if (!/invalid byte sequence/i.test((err as Error).message)) throw err
    return copyRows(db, table, 'base64', keep)
  }
}

/**
 * bytea travels as text converted in SQL, the way the pipeline sends the change log's bytes (a bytea
 * parameter goes as hex, which PGlite encodes in JavaScript at several times the insert's cost, so
 * sending bytes would make the floor slower than the pipeline): as UTF-8 text, or base64 when a
 * value is not UTF-8.
 */
async function copyRows(db: SqlDatabase, table: string, bytes: 'utf8' | 'base64', keep: boolean): Promise<{ rows: number; ms: number }> {
  const copy = `floor_copy_${table}`
  const { rows: columns } = await db.query<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  )
  const names = columns.map((c) => c.column_name)
  const isBytes = new Set(columns.filter((c) => c.data_type === 'bytea').map((c) => c.column_name))
  await db.exec(`DROP TABLE IF EXISTS ${quote(copy)}; CREATE TABLE ${quote(copy)} (LIKE ${quote(table)} INCLUDING ALL)`)
  // As text, which the insert's parameters are cast back from (as the pipeline sends JSON text).
  const asText = (c: string) => (!isBytes.has(c) ? `${quote(c)}::text` : bytes === 'utf8' ? `convert_from(${quote(c)}, 'UTF8')` : `encode(${quote(c)}, 'base64')`)
  const fromText = (c: string, param: string) => (!isBytes.has(c) ? param : bytes === 'utf8' ? `convert_to(${param}, 'UTF8')` : `decode(${param}, 'base64')`)
  const select = names.map((c) => `${asText(c)} AS ${quote(c)}`).join(', ')
  let after = '(0,0)'
  let rows = 0
  let ms = 0
  try {
    for (;;) {
      const page = await db.query<Record<string, unknown> & { floor_ctid: string }>(
        `SELECT ctid::text AS floor_ctid, ${select} FROM ${quote(table)} WHERE ctid > $1::tid ORDER BY ctid LIMIT ${FLOOR_ROWS_PER_INSERT}`,
        [after],
      )
      if (page.rows.length === 0) break
      after = page.rows[page.rows.length - 1].floor_ctid
      const params: unknown[] = []
      const values = page.rows.map((row) => `(${names.map((n) => (params.push(row[n]), fromText(n, `$${params.length}`))).join(', ')})`)
      const started = performance.now()
      await db.query(`INSERT INTO ${quote(copy)} (${names.map(quote).join(', ')}) VALUES ${values.join(', ')}`, params)
      ms += performance.now() - started
      rows += page.rows.length
    }
    if (!keep) await db.exec(`DROP TABLE ${quote(copy)}`)
  } catch (err) {
    await db.exec(`DROP TABLE IF EXISTS ${quote(copy)}`)
    throw err
  }
  return { rows, ms }
}

/** Re-inserts every row of every table of `db` (see the file comment); the copies are dropped again (kept as `floor_copy_<table>` with `keepCopies`, for a test to compare). */
export async function measureWriteFloor(db: SqlDatabase, options: { keepCopies?: boolean } = {}): Promise<WriteFloor> {
  const { rows: tables } = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'floor_copy_%' ORDER BY table_name`,
  )
  const floor: WriteFloor = { rows: 0, ms: 0, tables: [] }
  for (const { table_name } of tables) {
    const copied = await copyTable(db, table_name, options.keepCopies === true)
    if (copied.rows === 0) continue
    floor.rows += copied.rows
    floor.ms += copied.ms
    floor.tables.push({ table: table_name, rows: copied.rows })
  }
  floor.tables.sort((a, b) => b.rows - a.rows)
  return floor
}

/** "events 32,977, change_log 12,998, …": the biggest tables of the floor, for a note. */
export const floorTablesNote = (floor: WriteFloor, top = 4) =>
  floor.tables
    .slice(0, top)
    .map((t) => `${t.table} ${t.rows.toLocaleString('en-US')}`)
    .join(', ') + (floor.tables.length > top ? `, ${floor.tables.length - top} more tables` : '')
