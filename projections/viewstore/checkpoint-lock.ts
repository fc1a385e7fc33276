// One runner per checkpoint: two projectors writing the same views from the same checkpoint would
// interleave their batches and corrupt the views. On PostgreSQL the lock is a session advisory lock
// on a connection of its own (held while the runner runs; it ends with the connection, so a
// crashed runner never leaves it behind). On the embedded database (one connection per process)
// a session lock would not exclude anything, so the lock is held in the process itself.
import type { SqlDatabase } from '../../sql/database.ts'
import { CheckpointLockedError, type CheckpointLock } from './port.ts'

const heldInProcess = new WeakMap<SqlDatabase, Set<string>>()

async function acquire(db: SqlDatabase, name: string): Promise<CheckpointLock> {
  const held = heldInProcess.get(db) ?? new Set<string>()
  heldInProcess.set(db, held)
  if (held.has(name)) throw new CheckpointLockedError(name)
  held.add(name)
  if (!db.session) return { release: async () => void held.delete(name) }
  let session: Awaited<ReturnType<NonNullable<SqlDatabase['session']>>> | undefined
  try {
    session = await db.session()
    const { rows } = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [
      `kombo-sync checkpoint ${name}`,
    ])
    if (!rows[0]?.locked) throw new CheckpointLockedError(name)
  } catch (err) {
    held.delete(name)
    await session?.release()
    throw err
  }
  const locked = session
  return {
    async release() {
      held.delete(name)
      await locked.release()
    },
  }
}

export const checkpointLocks = { acquire }
