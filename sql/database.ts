// One SQL dialect (PostgreSQL) on two drivers: PGlite embedded in the process, and `pg` for a
// PostgreSQL server. Stores written against this interface run on both unchanged.

export interface SqlQueryable {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>
}

/** One connection of its own, held until released: for session state such as advisory locks. */
export interface SqlSession extends SqlQueryable {
  /** Closes the connection (it does not go back to a pool, so its session state ends with it). */
  release(): Promise<void>
}

export interface SqlDatabase extends SqlQueryable {
  /**
   * A dedicated connection (PostgreSQL). Absent where the database is one connection shared by the
   * whole process (embedded PGlite): there a session would be no different from the database.
   */
  session?(): Promise<SqlSession>
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>
  /** Several statements separated by `;`, no parameters (migrations). */
  exec(sql: string): Promise<void>
  close(): Promise<void>
}
