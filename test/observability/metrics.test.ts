// /metrics after real traffic: every documented metric with its labels, bounded label values, the
// SLO bucket edges, the token, METRICS_PORT, and that scrapes are neither rate-limited nor counted against anyone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { READY_PROBE_EVERY_MS } from '../../src/plugins/health.js'
import { buildTestApp, createTestDatabase, gql, token, type TestDatabase } from '../helpers/app.js'
import { freePort } from '../helpers/faults.js'
import { labelNamesOf, parseMetrics, valueOf, type Family } from './prom-text.js'

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

async function scrape (app: App, headers: Record<string, string> = {}) {
  const res = await app.inject({ url: '/metrics', headers })
  return { res, families: res.statusCode === 200 ? parseMetrics(res.body) : new Map<string, Family>() }
}

/** docs/observability.md: name -> [type, label names] */
export const DOCUMENTED_METRICS: Record<string, [string, string[]]> = {
  http_requests_total: ['counter', ['method', 'route', 'status_code']],
  graphql_operations_total: ['counter', ['operation_name', 'operation_type', 'outcome']],
  graphql_errors_total: ['counter', ['code']],
  cache_requests_total: ['counter', ['cache', 'result']],
  rate_limit_rejections_total: ['counter', []],
  http_request_duration_seconds: ['histogram', ['method', 'route']],
  graphql_operation_duration_seconds: ['histogram', ['operation_name', 'operation_type']],
  graphql_query_complexity: ['histogram', []],
  graphql_query_depth: ['histogram', []],
  db_query_duration_seconds: ['histogram', []],
  db_pool_connections: ['gauge', ['state']]
}

describe('after real traffic', () => {
  let app: App
  let families: Awaited<ReturnType<typeof scrape>>['families']
  beforeAll(async () => {
    app = await buildTestApp(db.url)
    // the cache arrives with its own issue; it counts through this counter
    app.metrics.cacheRequests.inc({ cache: 'resolver', result: 'miss' })
    expect((await gql(app, 'query ListUsers { users(limit: 2) { id posts(limit: 1) { id } } }')).statusCode).toBe(200)
    expect((await gql(app, 'query TooMany { users(limit: 1000) { id } }')).body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT')
    expect((await gql(app, 'mutation Nope { deleteUser(id: "1") }')).body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED')
    expect((await gql(app, 'query Broken { users(')).statusCode).toBe(400)
    expect((await app.inject('/nope/42')).statusCode).toBe(404)
    expect((await app.inject('/health')).statusCode).toBe(200)
    families = (await scrape(app)).families
  })
  afterAll(async () => { await app?.close() })

  it('serves every documented metric with its documented labels, and the default process metrics', () => {
    const found = Object.fromEntries(Object.keys(DOCUMENTED_METRICS).map((name) => {
      const f = families.get(name)
      return [name, f && [f.type, labelNamesOf(f)]]
    }))
    expect(found).toEqual(DOCUMENTED_METRICS)
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(families.has(name), name).toBe(true)
    }
  })

  it('counts HTTP responses by route pattern, with unmatched for 404', () => {
    expect(valueOf(families, 'http_requests_total', { method: 'POST', route: '/graphql', status_code: '200' })).toBe(3)
    expect(valueOf(families, 'http_requests_total', { method: 'POST', route: '/graphql', status_code: '400' })).toBe(1)
    expect(valueOf(families, 'http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1)
    expect(valueOf(families, 'http_requests_total', { method: 'GET', route: '/health', status_code: '200' })).toBe(1)
    expect(valueOf(families, 'http_request_duration_seconds_count', { method: 'POST', route: '/graphql' })).toBe(4)
  })

  it('counts GraphQL operations by type, name and outcome, and errors by code', () => {
    const ops = families.get('graphql_operations_total')!.samples.map((s) => ({ ...s.labels, n: s.value } as Record<string, string | number>))
    expect(ops.sort((a, b) => String(a.operation_name).localeCompare(String(b.operation_name)))).toEqual([
      { operation_type: 'query', operation_name: 'ListUsers', outcome: 'success', n: 1 },
      { operation_type: 'mutation', operation_name: 'Nope', outcome: 'client_error', n: 1 },
      // a parse error never names its operation
      { operation_type: 'unknown', operation_name: 'other', outcome: 'rejected', n: 1 },
      { operation_type: 'query', operation_name: 'TooMany', outcome: 'client_error', n: 1 }
    ])
    expect(valueOf(families, 'graphql_errors_total', { code: 'BAD_USER_INPUT' })).toBe(1)
    expect(valueOf(families, 'graphql_errors_total', { code: 'UNAUTHENTICATED' })).toBe(1)
    expect(valueOf(families, 'graphql_errors_total', { code: 'GRAPHQL_PARSE_FAILED' })).toBe(1)
    // every code is there from the start, at 0
    expect(valueOf(families, 'graphql_errors_total', { code: 'INTERNAL_SERVER_ERROR' })).toBe(0)
    expect(families.get('graphql_errors_total')!.samples.length).toBeGreaterThanOrEqual(17)
  })

  it('observes duration on the SLO bucket edges, and the cost and depth of executed operations', () => {
    for (const name of ['http_request_duration_seconds', 'graphql_operation_duration_seconds']) {
      const edges = new Set(families.get(name)!.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels.le))
      for (const le of ['0.05', '0.1', '0.2', '0.5', '1']) expect(edges.has(le), `${name} le=${le}`).toBe(true)
    }
    // ListUsers: depth 2 (root = 0), cost 1 + 2 x (1 + (1 + 1 x 1)) = 7; TooMany fails validation of
    // its argument; Nope (deleteUser, weight 50) costs 50 and fails authentication as it runs
    expect(valueOf(families, 'graphql_query_depth_count')).toBeGreaterThanOrEqual(1)
    expect(valueOf(families, 'graphql_query_depth_bucket', { le: '2' })).toBe(valueOf(families, 'graphql_query_depth_count'))
    expect(valueOf(families, 'graphql_query_complexity_bucket', { le: '5' })).toBe(0)
    expect(valueOf(families, 'graphql_query_complexity_bucket', { le: '10' })).toBe(1)
    expect(valueOf(families, 'graphql_query_complexity_bucket', { le: '50' })).toBe(2)
  })

  it('times database statements and reads the pool at scrape time', () => {
    expect(valueOf(families, 'db_query_duration_seconds_count')).toBeGreaterThanOrEqual(2)
    expect(valueOf(families, 'db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1)
    expect(valueOf(families, 'db_pool_connections', { state: 'waiting' })).toBe(0)
    expect(valueOf(families, 'db_pool_max_connections')).toBe(20)
  })

  it('reports the /ready verdict as bastion_ready, read when scraped', async () => {
    expect(valueOf(families, 'bastion_ready')).toBe(1)
    app.lifecycle.draining = true
    try {
      expect(valueOf((await scrape(app)).families, 'bastion_ready')).toBe(0)
    } finally {
      app.lifecycle.draining = false
    }
  })

  it('reads readiness from the background probe: a scrape runs no statement and no /ready request', async () => {
    const readyRequests = (f: Map<string, Family>) => valueOf(f, 'http_requests_total', { method: 'GET', route: '/ready', status_code: '200' }) ?? 0
    // every statement the pool runs, whoever asks (the probe included), and every one through app.db
    const pool = app.db.pool
    const query = pool.query
    let poolQueries = 0
    pool.query = function (this: typeof pool, ...args: unknown[]) { poolQueries++; return (query as (...a: unknown[]) => unknown).apply(this, args) } as typeof pool.query
    let statements = 0
    app.db.onQuery(() => { statements++ })
    try {
      const before = readyRequests((await scrape(app)).families)
      const started = performance.now()
      const SCRAPES = 30
      for (let i = 0; i < SCRAPES; i++) expect(valueOf((await scrape(app)).families, 'bastion_ready')).toBe(1)
      const elapsedMs = performance.now() - started
      expect(readyRequests((await scrape(app)).families)).toBe(before)
      expect(statements).toBe(0)
      // at most the background probe's one statement per READY_PROBE_EVERY_MS, far fewer than one per scrape
      expect(poolQueries).toBeLessThanOrEqual(Math.ceil(elapsedMs / READY_PROBE_EVERY_MS) + 1)
      expect(poolQueries).toBeLessThan(SCRAPES)
    } finally {
      pool.query = query
    }
  })

  it('keeps one registry per app: a second app starts at zero', async () => {
    const other = await buildTestApp(db.url)
    try {
      const fresh = (await scrape(other)).families
      expect(valueOf(fresh, 'http_requests_total', { method: 'POST', route: '/graphql', status_code: '200' })).toBe(0)
    } finally {
      await other.close()
    }
  })
})

it('keeps the first METRICS_OPERATION_NAMES_MAX names; later and anonymous operations are other', async () => {
  const app = await buildTestApp(db.url, { METRICS_OPERATION_NAMES_MAX: '2' })
  try {
    for (const name of ['A', 'B', 'C', 'D', 'A']) await gql(app, `query ${name} { users(limit: 1) { id } }`)
    await gql(app, '{ users(limit: 1) { id } }')
    const { families } = await scrape(app)
    const byName = Object.fromEntries(families.get('graphql_operations_total')!.samples.map((s) => [s.labels.operation_name, s.value]))
    expect(byName).toEqual({ A: 2, B: 1, other: 3 })
  } finally {
    await app.close()
  }
})

it('counts each operation of a batched request, and the request once', async () => {
  const app = await buildTestApp(db.url, { MAX_BATCH: '3' })
  try {
    const res = await app.inject({
      method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' },
      payload: JSON.stringify([{ query: 'query First { users(limit: 1) { id } }' }, { query: 'query Second { posts(limit: 1) { id } }' }])
    })
    expect(res.statusCode).toBe(200)
    const { families } = await scrape(app)
    const ops = Object.fromEntries(families.get('graphql_operations_total')!.samples.map((s) => [`${s.labels.operation_name} ${s.labels.outcome}`, s.value]))
    expect(ops).toEqual({ 'First success': 1, 'Second success': 1 })
    expect(valueOf(families, 'http_requests_total', { method: 'POST', route: '/graphql', status_code: '200' })).toBe(1)
  } finally {
    await app.close()
  }
})

it('counts 429s and never rate-limits /metrics', async () => {
  const app = await buildTestApp(db.url, { RATE_LIMIT_MAX: '2' })
  try {
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await gql(app, '{ users(limit: 1) { id } }', { token: token('1') })).statusCode)
    expect(statuses).toEqual([200, 200, 429, 429])
    for (let i = 0; i < 4; i++) expect((await app.inject('/metrics')).statusCode).toBe(200)
    const { families } = await scrape(app)
    expect(valueOf(families, 'rate_limit_rejections_total')).toBe(2)
    expect(valueOf(families, 'http_requests_total', { method: 'POST', route: '/graphql', status_code: '429' })).toBe(2)
    expect(valueOf(families, 'graphql_operations_total', { operation_type: 'unknown', operation_name: 'other', outcome: 'rejected' })).toBe(2)
  } finally {
    await app.close()
  }
})

it('with METRICS_TOKEN, answers 401 without the bearer token and 200 with it', async () => {
  const secret = 'metrics-token-0123456789'
  const app = await buildTestApp(db.url, { METRICS_TOKEN: secret })
  try {
    const none = await app.inject('/metrics')
    expect(none.statusCode).toBe(401)
    expect(none.json()).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'UNAUTHENTICATED', requestId: none.headers['x-request-id'] } }] })
    expect((await scrape(app, { authorization: `Bearer ${secret}x` })).res.statusCode).toBe(401)
    expect((await scrape(app, { authorization: secret })).res.statusCode).toBe(401)
    expect((await scrape(app, { authorization: `Basic ${secret}` })).res.statusCode).toBe(401)
    const ok = await scrape(app, { authorization: `Bearer ${secret}` })
    expect(ok.res.statusCode).toBe(200)
    // the scheme is case-insensitive, as on the GraphQL route
    expect((await scrape(app, { authorization: `bearer ${secret}` })).res.statusCode).toBe(200)
    expect((await scrape(app, { authorization: `BEARER ${secret}` })).res.statusCode).toBe(200)
    expect(ok.res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(ok.families.has('http_requests_total')).toBe(true)
  } finally {
    await app.close()
  }
})

it('with METRICS_PORT, serves /metrics only on that port', async () => {
  const port = await freePort()
  const app = await buildTestApp(db.url, { METRICS_PORT: String(port) })
  try {
    await gql(app, '{ users(limit: 1) { id } }')
    expect((await app.inject('/metrics')).statusCode).toBe(404)
    const res = await fetch(`http://127.0.0.1:${port}/metrics`)
    expect(res.status).toBe(200)
    const families = parseMetrics(await res.text())
    expect(valueOf(families, 'http_requests_total', { method: 'POST', route: '/graphql', status_code: '200' })).toBe(1)
    expect((await fetch(`http://127.0.0.1:${port}/graphql`)).status).toBe(404)
  } finally {
    await app.close()
  }
  // closed with the app
  await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow()
})
