// Read replicas: one pool per replica, and a monitor that asks each one every second how far it
// has replayed (pg_last_wal_replay_lsn) and how old its last replayed commit is
// (pg_last_xact_replay_timestamp). A replica that does not answer within the second, or lags more
// than REPLICA_MAX_LAG_MS, is out of rotation until a later check finds it well again.
import type { Database } from './database.js'
import { toLsn, type Lsn } from './lsn.js'
import { withTimeout } from '../timeout.js'

const CHECK_EVERY_MS = 1000

// Lag is 0 while the replica has replayed everything it received (an idle primary sends nothing,
// so the age of the last replayed commit says nothing then); otherwise the age of the last
// replayed commit. A promoted replica (no longer in recovery) is as fresh as a primary.
const STATUS_SQL = `
  SELECT pg_is_in_recovery() AS recovery,
    (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS lsn,
    CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
      ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000, 0)
    END::float8 AS lag_ms`

export interface Replica {
  /** replica-0, replica-1, ... in the order of DATABASE_REPLICA_URLS (a metric label: no address) */
  readonly name: string
  readonly db: Database
  /** answered the last check */
  reachable: boolean
  lagMs: number
  /** replayed at least up to here (last check): a read needing no more skips its own check (src/db/routing.ts) */
  lsn: Lsn | null
  /** reachable and within REPLICA_MAX_LAG_MS */
  healthy: boolean
}

export interface ReplicaSetOptions {
  databases: Database[]
  maxLagMs: number
  /** a replica went in or out of rotation */
  onChange?: (replica: Replica, reason: 'healthy' | 'lagging' | 'unreachable', err?: Error) => void
}

export interface ReplicaSet {
  readonly replicas: readonly Replica[]
  /** the next healthy replica, round-robin; null when none is */
  next (): Replica | null
  /** takes a replica out of rotation at once (a read on it failed); the next check may bring it back */
  down (replica: Replica, err: Error): void
  /** checks every replica now (the monitor does it every second) */
  check (): Promise<void>
  /** ok: every replica healthy; degraded: some or all out (the primary serves their reads) */
  status (): 'ok' | 'degraded'
  start (): void
  close (): Promise<void>
}

export function createReplicaSet ({ databases, maxLagMs, onChange }: ReplicaSetOptions): ReplicaSet {
  const replicas: Replica[] = databases.map((db, i) => ({ name: `replica-${i}`, db, reachable: false, lagMs: 0, lsn: null, healthy: false }))
  let cursor = 0
  let timer: NodeJS.Timeout | undefined
  let checking: Promise<void> | null = null

  function set (r: Replica, healthy: boolean, reason: 'healthy' | 'lagging' | 'unreachable', err?: Error) {
    if (r.healthy !== healthy) onChange?.(r, reason, err)
    r.healthy = healthy
  }

  async function checkOne (r: Replica) {
    try {
      // a check that takes most of the interval counts as no answer: the replica is out within the second
      const { rows } = await withTimeout(r.db.query<{ lsn: string | null, lag_ms: number }>('replica_status', STATUS_SQL), CHECK_EVERY_MS * 0.8, `no answer within ${CHECK_EVERY_MS * 0.8} ms`)
      r.reachable = true
      r.lagMs = Math.max(0, Math.round(rows[0].lag_ms))
      // what it says now, not the most it ever said: a replica rebuilt, or another standby behind the
      // same address, may be behind what an earlier check saw
      r.lsn = toLsn(rows[0].lsn)
      set(r, r.lagMs <= maxLagMs, r.lagMs <= maxLagMs ? 'healthy' : 'lagging')
    } catch (err) {
      r.reachable = false
      r.lsn = null
      set(r, false, 'unreachable', err as Error)
    }
  }

  const replicaSet: ReplicaSet = {
    replicas,
    next () {
      for (let i = 0; i < replicas.length; i++) {
        const r = replicas[cursor++ % replicas.length]
        if (r.healthy) return r
      }
      return null
    },
    down (r, err) {
      r.reachable = false
      r.lsn = null
      set(r, false, 'unreachable', err)
    },
    check () {
      // one check at a time: a slow replica does not pile up checks
      checking ??= Promise.all(replicas.map(checkOne)).then(() => { checking = null })
      return checking
    },
    status: () => replicas.every((r) => r.healthy) ? 'ok' : 'degraded',
    start () {
      timer = setInterval(() => { void replicaSet.check() }, CHECK_EVERY_MS)
      timer.unref()
    },
    async close () {
      clearInterval(timer)
      await checking
      await Promise.all(replicas.map((r) => r.db.close()))
    }
  }
  return replicaSet
}
