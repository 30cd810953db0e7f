// One pg Pool behind a small interface: every statement goes through query(), which names it
// (a prepared statement on real PostgreSQL), times it and tells the observers (metrics, slow log).
import pg from 'pg'
import type { QueryResult, QueryResultRow } from 'pg'
import { databaseFailure } from './classify-errors.js'
import { isReadOnly, onFreshConnection } from './read-only-retry.js'

export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow> (name: string, text: string, values?: unknown[]): Promise<QueryResult<R>>
}

export interface QueryEvent {
  name: string
  text: string
  /** the parameters: for tests (EXPLAIN); never log them */
  values?: unknown[]
  durationMs: number
  /** rows the statement returned (test/security/price-bounds-work.test.ts bounds them by the price) */
  rows?: number
  error?: Error
}

/**
 * A statement sent in the same round trip as BEGIN (first) or COMMIT (last) of a transaction: a
 * simple query, so its values are inlined, each through `literal` (pg's escapeLiteral).
 */
export type Inlined = (literal: (value: string | number) => string) => string

export interface TransactionOptions<T> {
  /** what is left of the request's deadline: the transaction's statement_timeout */
  timeoutMs?: number
  /** runs right after BEGIN, in its round trip (a claim: it answers by raising, see fold) */
  first?: Inlined
  /**
   * fn's first statement joins BEGIN's round trip too, after `first`: one round trip fewer. `first`
   * cannot answer fn then: it refuses by raising SQLSTATE `refusal`, so that fn's statement does
   * not run, and the transaction rejects with that error whatever fn made of it.
   */
  fold?: { refusal: string }
  /** runs right before COMMIT, in its round trip, with fn's result (undefined: nothing) */
  last?: (result: T) => Inlined | undefined
}

export interface Database extends Queryable {
  readonly pool: pg.Pool
  /**
   * Runs fn in one transaction.
   * timeoutMs (what is left of the request's deadline) becomes the transaction's statement_timeout.
   * first and last ride along with BEGIN and COMMIT: two round trips fewer for a write that
   * claims something first and records its result last (src/db/repositories/idempotency.ts).
   */
  transaction<T> (fn: (tx: Queryable) => Promise<T>, opts?: TransactionOptions<T>): Promise<T>
  /** Runs fn on one connection, outside a transaction (a check and a read on the same server). */
  session<T> (fn: (q: Queryable) => Promise<T>): Promise<T>
  onQuery (observer: (event: QueryEvent) => void): void
  close (): Promise<void>
}

/** the statement a fold prepares for its round trip (TransactionOptions.fold), deallocated in it */
const FOLDED = 'bastion_folded'

export interface DatabaseOptions {
  /** a URL, or a client configuration (TLS with a CA file: src/db/connection.ts) */
  connection: string | pg.ClientConfig
  min: number
  max: number
  connectTimeoutMs: number
  idleTimeoutMs: number
  statementTimeoutMs: number
  /** Named (server-side prepared) statements for hot queries (DATABASE_PREPARED_STATEMENTS). */
  preparedStatements: boolean
  applicationName?: string
  onIdleError: (err: Error) => void
  /** a statement met a read-only server (25006, a failover in progress) and is retried once (src/db/read-only-retry.ts) */
  onReadOnlyRetry?: () => void
}

export function createDatabase (opts: DatabaseOptions): Database {
  const base = typeof opts.connection === 'string' ? { connectionString: opts.connection } : opts.connection
  const pool = new pg.Pool({
    ...base,
    min: opts.min,
    max: opts.max,
    connectionTimeoutMillis: opts.connectTimeoutMs,
    idleTimeoutMillis: opts.idleTimeoutMs,
    statement_timeout: opts.statementTimeoutMs,
    // a transaction left open (a hung caller) would hold its locks and its pool slot
    idle_in_transaction_session_timeout: opts.statementTimeoutMs,
    // the server's statement_timeout cannot fire when the server is unreachable (a network
    // partition leaves the socket silent): give up on our side a little later, freeing the slot
    ...(opts.statementTimeoutMs > 0 ? { query_timeout: opts.statementTimeoutMs + 2000 } : {}),
    application_name: opts.applicationName ?? 'bastion',
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000
  })
  // An idle client that loses its server emits 'error' on the pool; unhandled, it would crash the process.
  pool.on('error', opts.onIdleError)
  const observers: Array<(e: QueryEvent) => void> = []

  function run<R extends QueryResultRow> (client: pg.Pool | pg.ClientBase, name: string, text: string, values?: unknown[]) {
    const config: pg.QueryConfig = opts.preparedStatements ? { name, text, values } : { text, values }
    if (observers.length === 0) return client.query<R>(config)
    const start = performance.now()
    return client.query<R>(config).then((result) => {
      notify({ name, text, values, durationMs: performance.now() - start, rows: result.rows.length })
      return result
    }, (error: Error) => {
      notify({ name, text, values, durationMs: performance.now() - start, error })
      throw error
    })
  }

  function notify (event: QueryEvent) {
    for (const o of observers) o(event)
  }

  const literal = (value: string | number) => pg.escapeLiteral(String(value))

  /**
   * fn's first statement as simple-query text, to ride in BEGIN's round trip (TransactionOptions.fold):
   * prepared, run with its values as literals and deallocated, inside the transaction (a session
   * keeps nothing, so a pooler in transaction mode is fine). null: a value that is not a string,
   * number, boolean or null (pg would convert it): the statement is sent on its own.
   */
  function inlined (text: string, values: unknown[] = []): string | null {
    const literals: string[] = []
    for (const v of values) {
      if (v === null || v === undefined) literals.push('NULL')
      else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') literals.push(pg.escapeLiteral(String(v)))
      else return null
    }
    return `PREPARE ${FOLDED} AS ${text}; EXECUTE ${FOLDED}${literals.length > 0 ? `(${literals.join(', ')})` : ''}; DEALLOCATE ${FOLDED}`
  }

  /** BEGIN, fn, COMMIT on one client; a pooled client is released (dropped when broken) */
  async function inTransaction<T> (client: pg.ClientBase & { release?: (err?: Error | boolean) => void }, fn: (tx: Queryable) => Promise<T>, opts: TransactionOptions<T>): Promise<T> {
    let broken: Error | undefined
    // a checked-out client whose server goes away emits 'error': unheard, it would crash the process
    const lost = (err: Error) => { broken = err }
    client.on('error', lost)
    // one round trip: a simple query may hold several statements (without parameters)
    let begin = opts.timeoutMs === undefined ? 'BEGIN' : `BEGIN; SET LOCAL statement_timeout = ${Math.max(1, Math.floor(opts.timeoutMs))}`
    if (opts.first) begin += `; ${opts.first(literal)}`
    // with fold: BEGIN's round trip once sent, whether a failure in it may have left the folded
    // statement prepared (its DEALLOCATE skipped), its failure (fn may catch it: the transaction
    // still fails) and first's refusal
    let opened: Promise<unknown> | undefined
    let leftPrepared = false
    let openFailed: Error | undefined
    let refused: Error | undefined
    const tx: Queryable = { query: (name, text, values) => run(client, name, text, values) }
    const open = (statement: string | null) => {
      opened = (client.query(statement ? `${begin}; ${statement}` : begin) as unknown as Promise<QueryResult[]>)
        .catch((err: Error & { code?: string }) => {
          openFailed = err
          if (err.code === opts.fold?.refusal) refused = err
          throw err
        })
      return opened
    }
    const foldInto: Queryable = {
      query: <R extends QueryResultRow>(name: string, text: string, values?: unknown[]) => {
        if (opened) return opened.then(() => run<R>(client, name, text, values))
        const statement = inlined(text, values)
        const start = performance.now()
        open(statement)
        if (!statement) return opened!.then(() => run<R>(client, name, text, values))
        // the EXECUTE's result: DEALLOCATE's is last
        return opened!.then((results) => {
          const result = (results as unknown as Array<QueryResult<R>>).at(-2)!
          notify({ name, text, values, durationMs: performance.now() - start, rows: result.rows.length })
          return result
        }, (error: Error) => {
          // a refusal comes before PREPARE; any other failure may come after it
          if (!refused) { leftPrepared = true; notify({ name, text, values, durationMs: performance.now() - start, error }) }
          throw error
        })
      }
    }
    try {
      let result: T
      if (opts.fold) {
        result = await fn(foldInto)
        // fn sent nothing: BEGIN (and first) still run
        if (!opened) await open(null)
        // the transaction is aborted, whatever fn made of the failure: COMMIT would roll back silently
        if (openFailed) throw openFailed
      } else {
        await client.query(begin)
        result = await fn(tx)
      }
      const last = opts.last?.(result)
      // the statement before COMMIT failing aborts the transaction: COMMIT is skipped, the catch rolls back
      await client.query(last ? `${last(literal)}; COMMIT` : 'COMMIT')
      return result
    } catch (err) {
      // A lost connection cannot roll back (the server already did): drop it from the pool;
      // so is one that led to a read-only server.
      if (databaseFailure(err) === 'SERVICE_UNAVAILABLE' || isReadOnly(err)) broken = err as Error
      else {
        // a folded statement that failed skipped its DEALLOCATE (one that never got prepared: 26000)
        await client.query(leftPrepared ? `ROLLBACK; DEALLOCATE ${FOLDED}` : 'ROLLBACK')
          .catch((e: Error & { code?: string }) => { if (e.code !== '26000') broken = e })
      }
      throw refused ?? err
    } finally {
      client.off('error', lost)
      client.release?.(broken)
    }
  }

  return {
    pool,
    query: <R extends QueryResultRow>(name: string, text: string, values?: unknown[]) => run<R>(pool, name, text, values).catch((err: unknown) => {
      if (!isReadOnly(err)) throw err
      return onFreshConnection(pool, (client) => run<R>(client, name, text, values), opts.onReadOnlyRetry)
    }),
    async transaction (fn, txOpts = {}) {
      const client = await pool.connect()
      try {
        return await inTransaction(client, fn, txOpts)
      } catch (err) {
        // rolled back by a read-only server: nothing committed, retry once on a new connection
        if (!isReadOnly(err)) throw err
        return onFreshConnection(pool, (fresh) => inTransaction(fresh, fn, txOpts), opts.onReadOnlyRetry)
      }
    },
    async session (fn) {
      const client = await pool.connect()
      let broken: Error | undefined
      const lost = (err: Error) => { broken = err }
      client.on('error', lost)
      try {
        return await fn({ query: (name, text, values) => run(client, name, text, values) })
      } catch (err) {
        if (databaseFailure(err) === 'SERVICE_UNAVAILABLE') broken = err as Error
        throw err
      } finally {
        client.off('error', lost)
        client.release(broken)
      }
    },
    onQuery (observer) { observers.push(observer) },
    async close () { await pool.end() }
  }
}

/**
 * One connection for scripts and test set-up (seed, bench, templates): no pool minimum, no
 * statement timeout, no prepared statements (a script runs each statement once).
 */
export function createScriptDatabase (connection: string | pg.ClientConfig, connectTimeoutMs = 5000): Database {
  return createDatabase({
    connection, min: 0, max: 1, connectTimeoutMs, idleTimeoutMs: 1000, statementTimeoutMs: 0, preparedStatements: false, onIdleError: () => {}
  })
}
