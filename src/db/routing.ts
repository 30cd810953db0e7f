// Which server runs a statement, decided where repositories get their database: app.db is this
// router, so repositories keep calling db.query() and never know. Every GraphQL request runs in a
// session (AsyncLocalStorage): a mutation runs every statement on the primary; a query reads
// from the next healthy replica, on the primary when none is, and, when the caller has written
// (read-your-writes, src/db/read-your-writes.ts) or a cache reload needs a floor
// (src/cache/two-level.ts), on a replica that has replayed that far: known from the monitor's last
// check, else checked on the same connection before the read. A read that fails on a replica
// (gone, recovery conflict) is retried once on the primary. Outside a request (readiness, scripts,
// cleanup) the primary serves.
import { AsyncLocalStorage } from 'node:async_hooks'
import type { QueryResult, QueryResultRow } from 'pg'
import type { Database, Queryable } from './database.js'
import { databaseFailure } from './classify-errors.js'
import { maxLsn, reached, toLsn, type Lsn } from './lsn.js'
import type { ReplicaSet } from './replicas.js'
import type { WriteLog } from './read-your-writes.js'

export interface Session {
  /** the JWT subject (read-your-writes); null: anonymous */
  caller: string | null
  /** the request runs a mutation: everything on the primary */
  mutation: boolean
  /** statements the mutation ran on the primary */
  writes: number
  needed?: Promise<Lsn | null | 'unknown'>
  lsn?: { writes: number, lsn: Promise<Lsn | null> }
}

interface Scope { session: Session | null, floor: Lsn | null }

export type Route = { pool: string, kind: 'read' | 'write' }

export interface RouterOptions {
  primary: Database
  replicas: ReplicaSet
  writes: Pick<WriteLog, 'needed' | 'record'>
  /** every statement, with the pool that ran it */
  onRoute?: (route: Route) => void
}

export interface Router extends Database {
  readonly replicas: ReplicaSet
  /** runs a request in its session */
  run<T> (session: Session, fn: () => T): T
  /** runs a cache reload: its reads see every write up to floor (null: any healthy replica) */
  loadAt<T> (floor: Lsn | null, fn: () => Promise<T>): Promise<T>
  /** the primary's WAL position after the current request's writes */
  writeLsn (): Promise<Lsn | null>
  /** after a mutation: records its LSN for its caller, so their next reads see it */
  finish (session: Session): Promise<void>
}

// 40001 on a standby: canceled by a conflict with recovery (the primary vacuumed what it read)
const onPrimaryInstead = (err: unknown) => databaseFailure(err) === 'SERVICE_UNAVAILABLE' || (err as { code?: string }).code === '40001'

const REPLAYED = 'SELECT pg_is_in_recovery() AS recovery, pg_last_wal_replay_lsn()::text AS lsn'
const INSERT_LSN = 'SELECT pg_current_wal_insert_lsn()::text AS lsn'

export function createRouter ({ primary, replicas, writes, onRoute }: RouterOptions): Router {
  const scopes = new AsyncLocalStorage<Scope>()
  const PRIMARY_READ: Route = { pool: 'primary', kind: 'read' }
  const PRIMARY_WRITE: Route = { pool: 'primary', kind: 'write' }
  const readRoutes = new Map(replicas.replicas.map((r) => [r, { pool: r.name, kind: 'read' } as Route]))

  async function fetchLsn (): Promise<Lsn | null> {
    const { rows } = await primary.query<{ lsn: string }>('write_lsn', INSERT_LSN)
    return toLsn(rows[0]?.lsn)
  }

  function lsnAfter (session: Session): Promise<Lsn | null> {
    if (session.lsn?.writes !== session.writes) session.lsn = { writes: session.writes, lsn: fetchLsn() }
    return session.lsn.lsn
  }

  async function needed (scope: Scope): Promise<Lsn | null | 'unknown'> {
    const s = scope.session
    const mine = s?.caller ? await (s.needed ??= writes.needed(s.caller)) : null
    return mine === 'unknown' ? mine : maxLsn(mine, scope.floor)
  }

  function onPrimary<R extends QueryResultRow> (route: Route, name: string, text: string, values?: unknown[]) {
    onRoute?.(route)
    return primary.query<R>(name, text, values)
  }

  async function read<R extends QueryResultRow> (scope: Scope, name: string, text: string, values?: unknown[]): Promise<QueryResult<R>> {
    const floor = await needed(scope)
    const replica = floor === 'unknown' ? null : replicas.next()
    if (!replica) return onPrimary<R>(PRIMARY_READ, name, text, values)
    try {
      // the monitor's last check (src/db/replicas.ts) already saw it replayed that far: no check needed
      const result = reached(replica.lsn, floor)
        ? await replica.db.query<R>(name, text, values)
        : await replica.db.session(async (c: Queryable) => {
          const { rows } = await c.query<{ recovery: boolean, lsn: string | null }>('replica_replayed', REPLAYED)
          // a promoted replica is a primary: it has every write it knows of
          if (rows[0].recovery && !reached(toLsn(rows[0].lsn), floor)) return null
          return c.query<R>(name, text, values)
        })
      if (result) {
        onRoute?.(readRoutes.get(replica)!)
        return result
      }
    } catch (err) {
      if (!onPrimaryInstead(err)) throw err
      if (databaseFailure(err)) replicas.down(replica, err as Error)
    }
    return onPrimary<R>(PRIMARY_READ, name, text, values)
  }

  return {
    pool: primary.pool,
    replicas,
    query<R extends QueryResultRow> (name: string, text: string, values?: unknown[]) {
      const scope = scopes.getStore()
      if (!scope?.session?.mutation) return scope ? read<R>(scope, name, text, values) : primary.query<R>(name, text, values)
      scope.session.writes++
      return onPrimary<R>(PRIMARY_WRITE, name, text, values)
    },
    transaction (fn, opts) {
      const session = scopes.getStore()?.session
      if (session?.mutation) session.writes++
      onRoute?.(PRIMARY_WRITE)
      return primary.transaction(fn, opts)
    },
    session: (fn) => primary.session(fn),
    onQuery (observer) {
      primary.onQuery(observer)
      for (const r of replicas.replicas) r.db.onQuery(observer)
    },
    run: (session, fn) => scopes.run({ session, floor: null }, fn),
    loadAt (floor, fn) {
      const scope = scopes.getStore()
      return scopes.run({ session: scope?.session ?? null, floor: maxLsn(scope?.floor ?? null, floor) }, fn)
    },
    writeLsn () {
      const session = scopes.getStore()?.session
      return session?.mutation ? lsnAfter(session) : fetchLsn()
    },
    async finish (session) {
      if (!session.mutation || session.writes === 0 || !session.caller) return
      const lsn = await lsnAfter(session)
      if (lsn) await writes.record(session.caller, lsn)
    },
    async close () {
      await replicas.close()
      await primary.close()
    }
  }
}
