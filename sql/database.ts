// One SQL dialect (PostgreSQL) on two drivers: PGlite embedded in the process, and `pg` for a
// PostgreSQL server. Stores written against this interface run on both unchanged.

export interface SqlQueryable {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>
}

export interface SqlDatabase extends SqlQueryable {
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>
  /** Several statements separated by `;`, no parameters (migrations). */
  exec(sql: string): Promise<void>
  close(): Promise<void>
}
