// Read-replica metrics (DATABASE_REPLICA_URLS): per replica pool its connections, lag and state,
// read at scrape time from the monitor (src/db/replicas.ts), and the statements routed to each
// pool. Label values are bounded: pool is primary or replica-<index>, never an address. Served
// (without series) when there is no replica too, so dashboards and alert rules find the names.
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Replica } from '../db/replicas.js'
import type { Route } from '../db/routing.js'
import { child } from './metrics.js'

export function replicaMetrics (registry: Registry, replicas: readonly Replica[], maxLagMs: number) {
  const registers = [registry]
  const routed = new Counter({
    name: 'db_queries_routed_total',
    help: 'Database statements by the pool that ran them (primary, replica-<n>) and kind (read: a query; write: inside a mutation)',
    labelNames: ['pool', 'kind'],
    registers
  })
  if (replicas.length > 0) for (const pool of ['primary', ...replicas.map((r) => r.name)]) routed.labels(pool, 'read').inc(0)
  new Gauge({
    name: 'db_replica_pool_connections',
    help: 'Replica pool connections: total open, idle, and requests waiting for one',
    labelNames: ['replica', 'state'],
    registers,
    collect () {
      for (const r of replicas) {
        this.set({ replica: r.name, state: 'total' }, r.db.pool.totalCount)
        this.set({ replica: r.name, state: 'idle' }, r.db.pool.idleCount)
        this.set({ replica: r.name, state: 'waiting' }, r.db.pool.waitingCount)
      }
    }
  })
  new Gauge({
    name: 'db_replica_lag_seconds',
    help: 'Replay lag of each replica at its last check (every second); 0 while it has replayed all it received',
    labelNames: ['replica'],
    registers,
    collect () { for (const r of replicas) this.set({ replica: r.name }, r.lagMs / 1000) }
  })
  new Gauge({
    name: 'db_replica_up',
    help: '1 while the replica answered its last check, else 0',
    labelNames: ['replica'],
    registers,
    collect () { for (const r of replicas) this.set({ replica: r.name }, r.reachable ? 1 : 0) }
  })
  new Gauge({
    name: 'db_replica_in_rotation',
    help: '1 while the replica serves reads (answering, lag within REPLICA_MAX_LAG_MS), else 0',
    labelNames: ['replica'],
    registers,
    collect () { for (const r of replicas) this.set({ replica: r.name }, r.healthy ? 1 : 0) }
  })
  new Gauge({ name: 'db_replica_max_lag_seconds', help: 'REPLICA_MAX_LAG_MS, in seconds', registers }).set(maxLagMs / 1000)
  return {
    routed: (route: Route) => child(routed, route.pool, route.kind).inc()
  }
}
