// The Prometheus metrics of docs/observability.md, on a Registry of their own per app instance (so test
// apps in one process do not collide), with prom-client's default process and nodejs metrics.
// https://github.com/siimon/prom-client
import { totalmem } from 'node:os'
import { getHeapStatistics } from 'node:v8'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type pg from 'pg'
import { ERRORS } from '../error-codes.js'

// Seconds; the SLO edges (0.05, 0.1, 0.2, 0.5, 1) are bucket boundaries, so p95 > 200 ms and
// p99 > 500 ms are exact in histogram_quantile, not interpolated across a wide bucket.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10]
const DB_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5]
const COMPLEXITY_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
const DEPTH_BUCKETS = [0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20]

export interface MetricsOptions { poolMax: number }

export function createMetrics ({ poolMax }: MetricsOptions) {
  // what the scrape reads, handed over by the plugins that own it (src/plugins/db.ts, src/plugins/health.ts)
  let pool: pg.Pool | null = null
  let ready: () => boolean = () => false
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const registers = [registry]

  const graphqlErrors = new Counter({
    name: 'graphql_errors_total', help: 'GraphQL errors sent to clients, by extensions.code', labelNames: ['code'], registers
  })
  // every code at 0 from the start: rate() and the dashboard see a code before its first error
  for (const code of Object.keys(ERRORS)) graphqlErrors.labels(code).inc(0)

  const metrics = {
    registry,
    /** the pool db_pool_connections reads when scraped */
    watchPool (p: pg.Pool) { pool = p },
    /** the readiness verdict bastion_ready reads when scraped (in memory: no statement, no request) */
    watchReadiness (verdict: () => boolean) { ready = verdict },
    httpRequests: new Counter({
      name: 'http_requests_total', help: 'HTTP responses by method, route (unmatched for 404) and status', labelNames: ['method', 'route', 'status_code'], registers
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds', help: 'Time from request to response, by method and route', labelNames: ['method', 'route'], buckets: DURATION_BUCKETS, registers
    }),
    graphqlOperations: new Counter({
      name: 'graphql_operations_total',
      help: 'GraphQL operations by type, name (first METRICS_OPERATION_NAMES_MAX names, else other) and outcome (success, client_error, server_error, rejected)',
      labelNames: ['operation_type', 'operation_name', 'outcome'],
      registers
    }),
    graphqlDuration: new Histogram({
      name: 'graphql_operation_duration_seconds', help: 'GraphQL execution time, by operation type and name', labelNames: ['operation_type', 'operation_name'], buckets: DURATION_BUCKETS, registers
    }),
    graphqlErrors,
    graphqlComplexity: new Histogram({
      name: 'graphql_query_complexity', help: 'Cost of executed GraphQL operations (complexity points)', buckets: COMPLEXITY_BUCKETS, registers
    }),
    graphqlDepth: new Histogram({
      name: 'graphql_query_depth', help: 'Depth of executed GraphQL operations (root field = 0)', buckets: DEPTH_BUCKETS, registers
    }),
    cacheRequests: new Counter({
      name: 'cache_requests_total', help: 'Cache lookups by cache and result (hit or miss)', labelNames: ['cache', 'result'], registers
    }),
    clientAborts: new Counter({
      name: 'http_client_aborts_total', help: 'Requests whose client closed the connection before the response (mid-body included)', registers
    }),
    rateLimitRejections: new Counter({
      name: 'rate_limit_rejections_total', help: 'Requests answered 429 (rate limit or cost budget exceeded)', registers
    }),
    dbDuration: new Histogram({
      name: 'db_query_duration_seconds', help: 'Database statement time, failures included', buckets: DB_BUCKETS, registers
    }),
    dbReadOnlyRetries: new Counter({
      name: 'db_read_only_retries_total', help: 'Statements retried on a new connection after reaching a read-only server (25006, a failover)', registers
    })
  }

  new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections: total open, idle, and requests waiting for one',
    labelNames: ['state'],
    registers,
    // read when scraped, so the value is never stale and costs nothing per query
    collect () {
      const p = pool
      this.set({ state: 'total' }, p?.totalCount ?? 0)
      this.set({ state: 'idle' }, p?.idleCount ?? 0)
      this.set({ state: 'waiting' }, p?.waitingCount ?? 0)
    }
  })
  new Gauge({
    name: 'bastion_ready',
    help: '1 while /ready answers 200 (database reachable, not draining, not shedding load), else 0',
    registers,
    // the alert then needs nothing probing /ready (compose has no readiness probe, Kubernetes does)
    collect () { this.set(ready() ? 1 : 0) }
  })
  // The limits the alerts compare against: pool saturation and memory headroom.
  new Gauge({ name: 'db_pool_max_connections', help: 'DATABASE_POOL_MAX', registers }).set(poolMax)
  new Gauge({ name: 'bastion_heap_limit_bytes', help: 'V8 heap size limit (--max-old-space-size)', registers })
    .set(getHeapStatistics().heap_size_limit)
  // cgroup limit of the container; without one (Node reports 0 or 2^64), the machine's memory
  const constrained = process.constrainedMemory?.() ?? 0
  new Gauge({ name: 'bastion_memory_limit_bytes', help: 'Memory the process may use: the container limit (cgroup), else the machine', registers })
    .set(constrained > 0 && constrained < totalmem() ? constrained : totalmem())
  return metrics
}

export type Metrics = ReturnType<typeof createMetrics>

// Label children resolved once per distinct label values: prom-client otherwise hashes the label
// object on every inc/observe. The values come from bounded sets (routes, operation names capped
// by METRICS_OPERATION_NAMES_MAX), so these maps stay small.
const children = new WeakMap<object, Map<string, unknown>>()
export function child<C> (metric: { labels (...values: string[]): C }, ...values: string[]): C {
  let byValues = children.get(metric)
  if (!byValues) children.set(metric, byValues = new Map())
  const key = values.join('\u0000')
  let c = byValues.get(key) as C | undefined
  if (c === undefined) byValues.set(key, c = metric.labels(...values))
  return c
}
