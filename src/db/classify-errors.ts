// Which database failures a client should see as what: the one place that reads pg's errors, so
// resolvers stay simple and the error formatter turns them into codes without leaking addresses.
//   TIMEOUT              the statement ran past statement_timeout (SQLSTATE 57014)
//   SERVICE_UNAVAILABLE  PostgreSQL is unreachable, restarting or out of connections, read-only
//                        (a failover in progress), or the pool had no free connection within
//                        DATABASE_CONNECT_TIMEOUT_MS (retry later)

export type DatabaseFailure = 'TIMEOUT' | 'SERVICE_UNAVAILABLE'

// SQLSTATE classes and codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
  '53300', // too_many_connections
  '53100', // disk_full
  '25006' // read_only_sql_transaction: a failover in progress (the endpoint leads to a standby)
])

// Node's socket errors while connecting or talking to the server.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED'])

// pg and pg-pool raise these as plain Errors without a code; their wording is all there is.
const POOL_MESSAGES = [
  'timeout exceeded when trying to connect', // pg-pool: no free connection in connectionTimeoutMillis
  'Connection terminated', // the server closed the socket (also "... unexpectedly", "... due to connection timeout")
  'Client has encountered a connection error and is not queryable',
  'Query read timeout', // pg's client-side query_timeout: the server went silent
  'Cannot use a pool after calling end on the pool' // shutting down
]

export function databaseFailure (err: unknown): DatabaseFailure | null {
  if (!(err instanceof Error)) return null
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') {
    if (code === '57014') return 'TIMEOUT'
    if (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || SOCKET_CODES.has(code)) return 'SERVICE_UNAVAILABLE'
  }
  // AggregateError (a host with several addresses, all refused) and wrapped causes
  const inner = (err as { errors?: unknown[] }).errors?.[0] ?? err.cause
  if (inner && inner !== err && databaseFailure(inner) === 'SERVICE_UNAVAILABLE') return 'SERVICE_UNAVAILABLE'
  for (const m of POOL_MESSAGES) if (err.message.startsWith(m)) return 'SERVICE_UNAVAILABLE'
  return null
}
