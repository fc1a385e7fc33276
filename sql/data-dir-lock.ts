// One process per embedded data directory. PGlite has no locking of its own: two processes on one
// DATA_DIR both wrote it and corrupted it (duplicate (stream, revision) pairs despite the UNIQUE
// constraint, and later a directory that could not be opened at all). So before PGlite opens the
// directory, a lock file is created exclusively (O_EXCL) holding our pid, host and start time, and
// removed on close.
//
// A lock left by a process that died (kill -9, power loss) is stale: its pid is not alive on this
// host, and it is taken over. A lock whose pid is our own but that this process did not take is
// stale too (containers restart with the same pid). A lock from another host cannot be checked and
// is treated as live: the operator removes it after making sure that host is gone.
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, renameSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'

export const LOCK_FILE = 'kombo-sync.lock'

export interface LockOwner {
  pid: number
  host: string
  startedAt: string
}

/** Another live process holds the data directory. Retrying will not help until it stops. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError'
  readonly retriable = false
  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner,
  ) {
    super(
      `the data directory ${dataDir} is in use by another kombo-sync process (pid ${owner.pid} on ${owner.host}, since ${owner.startedAt}); ` +
        `stop it first, or give this process its own DATA_DIR. If that process is gone, remove ${join(dataDir, LOCK_FILE)}.`,
    )
  }
}

export interface DataDirLock {
  readonly path: string
  release(): void
}

/** Directories this process holds, so a lock carrying our own pid is known to be ours or stale. */
const heldHere = new Set<string>()

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to another user: alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function acquireDataDirLock(dataDir: string, deps: { isAlive?: (pid: number) => boolean } = {}): DataDirLock {
  const alive = deps.isAlive ?? isAlive
  const path = join(dataDir, LOCK_FILE)
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx')
      try {
        writeSync(fd, JSON.stringify(me) + '\n')
      } finally {
        closeSync(fd)
      }
      heldHere.add(path)
      let released = false
      return {
        path,
        release() {
          if (released) return
          released = true
          heldHere.delete(path)
          try {
            const owner = readOwner(path)
            if (owner !== null && owner !== 'gone' && owner.pid === me.pid) unlinkSync(path)
          } catch {
            // already gone
          }
        },
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const owner = readOwner(path)
    if (owner === 'gone') continue
    if (owner === null) {
      // Unreadable or half-written (a crash between create and write): stale.
      takeOver(path)
      continue
    }
    const ours = owner.pid === process.pid && owner.host === me.host
    if (ours ? heldHere.has(path) : owner.host !== me.host || alive(owner.pid)) throw new DataDirLockedError(dataDir, owner)
    takeOver(path)
  }
  throw new Error(`could not take the lock ${path}: it keeps changing (several processes starting at once?)`)
}

/** The lock's owner; null when unreadable; 'gone' when the file vanished meanwhile. */
function readOwner(path: string): LockOwner | null | 'gone' {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>
    if (typeof owner.pid !== 'number' || typeof owner.host !== 'string') return null
    return { pid: owner.pid, host: owner.host, startedAt: String(owner.startedAt ?? 'unknown') }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone'
    return null
  }
}

/** Moves the stale lock aside first, so two processes taking over at once cannot both delete a fresh one. */
function takeOver(path: string): void {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`
  try {
    renameSync(path, aside)
    unlinkSync(aside)
  } catch {
    // someone else moved it already; the next attempt decides
  }
}
