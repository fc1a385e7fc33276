// Creates a new embedded database directory in a short-lived child process. PGlite runs initdb
// inside the process that opens a fresh directory, and that first start takes ~850 MB of RSS
// (its WebAssembly memories and the unpacked file-system bundle), against ~350 MB when it opens
// a directory that already exists; WebAssembly memory never shrinks, so a service started on an
// empty DATA_DIR would carry the extra ~500 MB for its whole life (and in its peak RSS). In a
// child the cost ends with the child. Not a worker thread: its memory would count in this
// process's peak all the same.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, renameSync, rmSync, rmdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A directory PGlite has initialised (what PGlite itself checks before running initdb). */
export const isInitialised = (dir: string): boolean => existsSync(join(dir, 'PG_VERSION'))

/**
 * Makes `dir` an initialised PGlite data directory, unless it already is one or holds anything
 * else (then PGlite's own start decides, as before). Built beside it under a temporary name and
 * renamed into place, so a start that dies half-way leaves no half-made database behind.
 */
export async function initialiseDataDirApart(dir: string, timeoutMs = 180_000): Promise<void> {
  if (isInitialised(dir)) return
  if (existsSync(dir) && readdirSync(dir).length > 0) return
  const building = join(dirname(dir), `.${basename(dir)}.initdb-${process.pid}`)
  rmSync(building, { recursive: true, force: true })
  const pglite = import.meta.resolve('@electric-sql/pglite')
  const code = `const { PGlite } = await import(${JSON.stringify(pglite)}); const db = new PGlite(process.argv[1]); await db.waitReady; await db.close()`
  try {
    await run(process.execPath, ['--input-type=module', '-e', code, building], { timeout: timeoutMs, env: { PATH: process.env.PATH ?? '' } })
    if (!isInitialised(building)) throw new Error('the child exited without a PG_VERSION')
    if (existsSync(dir)) rmdirSync(dir) // empty (checked above)
    renameSync(building, dir)
  } catch (err) {
    rmSync(building, { recursive: true, force: true })
    const e = err as Error & { stderr?: string }
    throw new Error(`could not create the embedded database in ${dir}: ${e.message}${e.stderr ? `\n${e.stderr.slice(-2000)}` : ''}`, { cause: err })
  }
}
