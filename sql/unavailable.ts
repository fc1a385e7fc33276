// Whether a database error says the database could not be reached or would not take the
// connection — never a record's fault. Poison isolation (processors/poison-isolation.ts) must not
// split a batch and dead-letter a record for it: its health probe can answer on a connection the
// pool already holds while every new connection is refused (a database set to refuse connections,
// a server at its connection limit or starting up), and then a record was dead-lettered for an
// outage (CI, test/reliability/production-roles: two users lost while the view database refused
// connections). The same codes tell sql/postgres.ts a pooled client is broken (isConnectionLost).

/** A connection that was open broke: a terminated backend, a reset socket. */
const LOST_CODES = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  'ECONNRESET',
  'EPIPE',
])
const LOST_MESSAGE = /Connection terminated|connection ended|not queryable/i

/** A new connection could not be made or was refused. */
const REFUSED_CODES = new Set([
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
])
const REFUSED_MESSAGE = /not currently accepting connections|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery mode)/i

const codeOf = (err: Error): unknown => (err as { code?: unknown }).code

/** The connection itself failed (terminated backend, reset socket): a client that met it must not be reused. */
export function isConnectionLost(err: Error): boolean {
  const code = codeOf(err)
  return (typeof code === 'string' && LOST_CODES.has(code)) || LOST_MESSAGE.test(err.message)
}

/** The error, or one it was caused by, is the database being out of reach. */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 5) return false
  if (isConnectionLost(err)) return true
  const code = codeOf(err)
  if (typeof code === 'string' && (REFUSED_CODES.has(code) || code.startsWith('08'))) return true
  if (REFUSED_MESSAGE.test(err.message)) return true
  return isDatabaseUnavailable((err as { cause?: unknown }).cause, depth + 1)
}
