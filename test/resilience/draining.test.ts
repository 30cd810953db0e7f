// Draining, as an orchestrator does it: the real server as a child process under autocannon
// traffic gets SIGTERM; /ready answers 503 at once while requests are still served for
// SHUTDOWN_DELAY_MS, then the server stops accepting, finishes what it accepted, and exits 0
// within the grace period. Every request the server accepted succeeds.
import { afterAll, beforeAll, expect, it } from 'vitest'
import autocannon from 'autocannon'
import { createTestDatabase, JWT_SECRET, type TestDatabase } from '../helpers/app.js'
import { startServer } from '../helpers/child.js'
import { percentile, report } from '../helpers/faults.js'

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

it('drains under traffic: no accepted request fails, exit 0 within the grace period', async () => {
  const server = await startServer({
    // debug: the 'incoming request' line (info has one line per request, on completion)
    LOG_LEVEL: 'debug',
    NODE_ENV: 'test', DATABASE_URL: db.url, JWT_SECRET, SHUTDOWN_DELAY_MS: '1000', SHUTDOWN_GRACE_MS: '10000',
    RATE_LIMIT_MAX: '0', RATE_LIMIT_POINTS: '0'
  })
  const statuses = new Map<number, number>()
  const errors = new Map<string, number>()
  const latencies: number[] = []
  let signalledAt = 0
  const drainLatencies: number[] = []
  const instance = autocannon({
    url: `${server.url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ users(limit: 10) { id name posts(limit: 2) { id } } }' }),
    connections: 8,
    duration: 30,
    timeout: 10
  }, () => {})
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
    latencies.push(ms)
    if (signalledAt) drainLatencies.push(ms)
  })
  instance.on('reqError', (err: NodeJS.ErrnoException) => { errors.set(err.code ?? err.message, (errors.get(err.code ?? err.message) ?? 0) + 1) })
  const done = new Promise((resolve) => instance.on('done', resolve))

  await new Promise((resolve) => setTimeout(resolve, 1500))
  const beforeSignal = latencies.length
  signalledAt = Date.now()
  server.child.kill('SIGTERM')
  // the load balancer's view: not ready at once, while requests are still answered
  const ready = await fetch(`${server.url}/ready`)
  const readyBody = await ready.json() as { checks: Record<string, string> }
  const servedWhileDraining = latencies.length
  const code = await server.exited
  const exitedAfterMs = Date.now() - signalledAt
  instance.stop()
  await done

  // the request log's fields (route, statusCode; Fastify's default nests them in req and res)
  const route = (l: Record<string, any>) => l.route ?? l.req?.url
  const status = (l: Record<string, any>) => l.statusCode ?? l.res?.statusCode
  const accepted = server.logs.filter((l) => l.msg === 'incoming request' && route(l) === '/graphql').length
  const completed = server.logs.filter((l) => l.msg === 'request completed' && status(l) === 200 && route(l) !== '/ready')
  report('SIGTERM under autocannon (8 connections)', {
    responses: latencies.length, beforeSignal, afterSignal: latencies.length - beforeSignal, statuses: Object.fromEntries(statuses),
    clientErrors: Object.fromEntries(errors), acceptedByServer: accepted, readyDuringDrain: ready.status,
    p99DrainMs: Math.round(percentile(drainLatencies, 99)), exitedAfterMs, exitCode: code
  })
  expect(code).toBe(0)
  expect(exitedAfterMs).toBeLessThan(10_000)
  // SHUTDOWN_DELAY_MS: kept serving after the signal
  expect(exitedAfterMs).toBeGreaterThanOrEqual(1000)
  expect(ready.status).toBe(503)
  expect(readyBody.checks.server).toBe('draining')
  expect(latencies.length).toBeGreaterThan(servedWhileDraining - 1)
  expect(latencies.length - beforeSignal).toBeGreaterThan(0)
  // every response was a success, and every request the server accepted got one
  expect([...statuses.keys()]).toEqual([200])
  expect(statuses.get(200)).toBe(accepted)
  expect(completed.length).toBe(accepted)
  // the rest never reached the server: refused once the listener closed, or reset while idle
  // (a connection opened as the server closed, its request not yet read)
  expect([...errors.keys()].filter((k) => k !== 'ECONNREFUSED' && k !== 'ECONNRESET')).toEqual([])
  expect(server.logs.some((l) => l.msg === 'stopped')).toBe(true)
}, 40_000)
