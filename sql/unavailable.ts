// Whether a database error says the database could not be reached or would not take the
// connection — never a record's fault. Poison isolation (processors/poison-isolation.ts) must not
// split a batch and dead-letter a record for it: its health probe can answer on a connection the
// pool already holds while every new connection is refused (a database set to refuse connections,
// a server at its connection limit or starting up), and then a record was dead-lettered for an
// outage (CI, test/reliability/production-roles: two users lost while the view database refused
// connections).
const UNAVAILABLE_CODES = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
])

const UNAVAILABLE_MESSAGE = /not currently accepting connections|Connection terminated|connection ended|not queryable|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery mode)/i

/** The error, or one it was caused by, is the database being out of reach. */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 5) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true
  if (UNAVAILABLE_MESSAGE.test(err.message)) return true
  return isDatabaseUnavailable((err as { cause?: unknown }).cause, depth + 1)
}
