import t from 'tap'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initialiseDataDirApart, isInitialised } from './pglite-init.ts'
import { openPgliteDatabase } from './pglite.ts'

const newParent = () => mkdtempSync(join(tmpdir(), 'kombo-sync-pglite-init-'))
const peakRssMb = () => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024

// First in this file, while the process has opened no PGlite: PGlite's own initdb in-process
// peaks at ~850 MB and reopening an existing directory at ~350 MB (measured on Node 20, PGlite
// 0.5); the threshold sits between them, so only an initdb run in this process crosses it.
t.test('a fresh data directory is created apart: this process never holds initdb', async (t) => {
  const dir = join(newParent(), 'db')
  const db = await openPgliteDatabase(dir)
  await db.exec('CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)')
  await db.close()
  t.ok(isInitialised(dir), 'the directory is a database')
  t.ok(peakRssMb() < 650, `peak RSS of this process ${Math.round(peakRssMb())} MB (in-process initdb: ~850 MB)`)
  const reopened = await openPgliteDatabase(dir)
  t.same((await reopened.query<{ id: number }>('SELECT id FROM kept')).rows, [{ id: 42 }], 'what was written is there after a reopen')
  await reopened.close()
})

t.test('builds under a temporary name and leaves nothing else beside the directory', async (t) => {
  const parent = newParent()
  const dir = join(parent, 'db')
  await initialiseDataDirApart(dir)
  t.same(readdirSync(parent), ['db'])
  t.ok(isInitialised(dir))
})

t.test('an empty directory (made by the service before) is initialised in place of it', async (t) => {
  const dir = join(newParent(), 'db')
  mkdirSync(dir)
  await initialiseDataDirApart(dir)
  t.ok(isInitialised(dir))
})

t.test('an initialised directory is left as it is', async (t) => {
  const dir = join(newParent(), 'db')
  await initialiseDataDirApart(dir)
  const before = statSync(join(dir, 'PG_VERSION')).mtimeMs
  await initialiseDataDirApart(dir)
  t.equal(statSync(join(dir, 'PG_VERSION')).mtimeMs, before)
})

t.test('a directory holding something else is not touched (PGlite decides, as before)', async (t) => {
  const dir = join(newParent(), 'db')
  mkdirSync(dir)
  writeFileSync(join(dir, 'notes.txt'), 'not a database')
  await initialiseDataDirApart(dir)
  t.same(readdirSync(dir), ['notes.txt'])
})

t.test('a child that fails leaves no half-made database and says where', async (t) => {
  const parent = newParent()
  const dir = join(parent, 'db')
  await t.rejects(initialiseDataDirApart(dir, 1), { message: new RegExp(`could not create the embedded database in ${dir}`) })
  t.same(readdirSync(parent), [], 'neither the directory nor its temporary build')
})
