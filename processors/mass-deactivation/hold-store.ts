// Where the mass-deactivation guard keeps its holds: one row per hold (its users, why, who decided).
// The per-user truth is in the employee streams (UserDeactivationHeld / UserDeactivated /
// UserDeactivationDiscarded); the row is the operator's handle on the whole round. Adapter: the SQL
// database (embedded PGlite or PostgreSQL), the same one adapter for both.
import type { SqlQueryable } from '../../sql/database.ts'
import type { Hold, HoldStatus } from '../../schemas/holds.ts'

export interface NewHold {
  id: string
  tenant: string
  users: string[]
  reason: string
  createdAt: Date
}

export interface HoldStore {
  /** Creates the hold; a hold with this id already there is kept as it is (idempotent). */
  create(hold: NewHold): Promise<Hold>
  get(tenant: string, id: string): Promise<Hold | null>
  /** The tenant's holds, newest first; only those with `status` when given. */
  list(tenant: string, status?: HoldStatus): Promise<Hold[]>
  /**
   * Marks an open hold released or discarded by `actor`. Returns the hold as it is afterwards:
   * unchanged when it was already decided (the caller tells a repeat from a conflict).
   */
  decide(tenant: string, id: string, status: 'released' | 'discarded', actor: string, at: Date): Promise<Hold | null>
  /** Open holds per tenant (the `kombo_sync_holds_open` gauge). */
  openCounts(): Promise<Map<string, number>>
}

const migration = `
CREATE TABLE IF NOT EXISTS mass_deactivation_holds (
  tenant text NOT NULL, id text NOT NULL, status text NOT NULL, users jsonb NOT NULL, reason text NOT NULL,
  created_at timestamptz NOT NULL, decided_at timestamptz, decided_by text, PRIMARY KEY (tenant, id));
CREATE INDEX IF NOT EXISTS mass_deactivation_holds_open ON mass_deactivation_holds (tenant) WHERE status = 'open';
`

interface Row {
  tenant: string
  id: string
  status: string
  users: unknown
  reason: string
  created_at: Date | string
  decided_at: Date | string | null
  decided_by: string | null
}

const iso = (v: Date | string) => new Date(v).toISOString()
const toHold = (r: Row): Hold => ({
  id: r.id,
  status: r.status as HoldStatus,
  users: (typeof r.users === 'string' ? JSON.parse(r.users) : r.users) as string[],
  reason: r.reason,
  createdAt: iso(r.created_at),
  decidedAt: r.decided_at === null ? null : iso(r.decided_at),
  decidedBy: r.decided_by,
})

export async function openSqlHoldStore(db: SqlQueryable & { exec(sql: string): Promise<void> }): Promise<HoldStore> {
  await db.exec(migration)
  const get = async (tenant: string, id: string) => {
    const { rows } = await db.query<Row>('SELECT * FROM mass_deactivation_holds WHERE tenant = $1 AND id = $2', [tenant, id])
    return rows[0] ? toHold(rows[0]) : null
  }
  return {
    async create(hold) {
      await db.query(
        `INSERT INTO mass_deactivation_holds (tenant, id, status, users, reason, created_at) VALUES ($1, $2, 'open', $3::jsonb, $4, $5)
         ON CONFLICT (tenant, id) DO NOTHING`,
        [hold.tenant, hold.id, JSON.stringify(hold.users), hold.reason, hold.createdAt.toISOString()],
      )
      return (await get(hold.tenant, hold.id))!
    },
    get,
    async list(tenant, status) {
      const { rows } = await db.query<Row>(
        `SELECT * FROM mass_deactivation_holds WHERE tenant = $1 AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC, id`,
        [tenant, status ?? null],
      )
      return rows.map(toHold)
    },
    async decide(tenant, id, status, actor, at) {
      // Only an open hold changes: a second release (or a discard after a release) leaves it as decided first.
      await db.query(
        `UPDATE mass_deactivation_holds SET status = $3, decided_by = $4, decided_at = $5 WHERE tenant = $1 AND id = $2 AND status = 'open'`,
        [tenant, id, status, actor, at.toISOString()],
      )
      return get(tenant, id)
    },
    async openCounts() {
      const { rows } = await db.query<{ tenant: string; n: number | string }>("SELECT tenant, count(*) AS n FROM mass_deactivation_holds WHERE status = 'open' GROUP BY tenant")
      return new Map(rows.map((r) => [r.tenant, Number(r.n)]))
    },
  }
}
