// After a failover the primary endpoint (HAProxy, PgBouncer, a CloudNativePG -rw service, a
// managed endpoint) may for a moment lead to a server that is still a standby: a write there fails
// with SQLSTATE 25006 (read_only_sql_transaction) before anything is written. That connection is
// dropped, and the statement (or the whole transaction) is retried once on a brand-new connection,
// never an idle one from the pool, which may lead to the same server. Only 25006 is retried: the
// server refused the statement, so nothing committed. A connection lost in the middle of a
// statement or a COMMIT leaves the outcome unknown: that is never retried (SERVICE_UNAVAILABLE).
import pg from 'pg'

const READ_ONLY_SQLSTATE = '25006'

export function isReadOnly (err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === READ_ONLY_SQLSTATE
}

/**
 * Runs fn on a connection of its own (the pool's settings, outside the pool), closed afterwards.
 * `onRetry` is told first, so the retries can be counted and logged.
 */
export async function onFreshConnection<T> (pool: pg.Pool, fn: (client: pg.Client) => Promise<T>, onRetry?: () => void): Promise<T> {
  onRetry?.()
  // the pool keeps the client settings it was given (connection, timeouts, application_name)
  const client = new pg.Client(pool.options as pg.ClientConfig)
  client.on('error', () => {})
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}
