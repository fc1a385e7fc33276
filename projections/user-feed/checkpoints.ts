// The feed publisher's checkpoint on SQL: a row of the view database's `projection_checkpoints`
// (created by the view store's migration), beside the views' own `learnamp-views` row.
import type { SqlQueryable } from '../../sql/database.ts'
import type { FeedCheckpointStore } from './port.ts'

export function sqlFeedCheckpoints(db: SqlQueryable): FeedCheckpointStore {
  return {
    async checkpoint(name) {
      const { rows } = await db.query<{ position: string }>('SELECT position FROM projection_checkpoints WHERE name = $1', [name])
      return rows[0] ? BigInt(rows[0].position) : null
    },
    async setCheckpoint(name, position) {
      if (position === null) {
        await db.query('DELETE FROM projection_checkpoints WHERE name = $1', [name])
        return
      }
      await db.query(
        `INSERT INTO projection_checkpoints (name, position) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
        [name, position.toString()],
      )
    },
  }
}
