// Load shedding (@fastify/under-pressure): over a threshold, requests get 503 with Retry-After and
// the one error body (SERVICE_UNAVAILABLE and the request id), /ready says which threshold, /health still answers,
// and service resumes by itself once the pressure is gone.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { buildTestApp, createTestDatabase, type TestDatabase } from '../helpers/app.js'
import { report, waitUntil } from '../helpers/faults.js'

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

const query = (app: App) => app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: { query: '{ users(limit: 1) { id } }' } })
const SHED = { errors: [{ message: expect.any(String), extensions: { code: 'SERVICE_UNAVAILABLE', requestId: expect.any(String) } }] }

it('sheds requests while the heap is over PRESSURE_MAX_HEAP_USED_BYTES; probes still answer', async () => {
  // the heap threshold alone (a stall of this busy test process must not trip the event-loop one)
  const app = await buildTestApp(db.url, { PRESSURE_MAX_HEAP_USED_BYTES: '1', PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', PRESSURE_SAMPLE_INTERVAL_MS: '20', PRESSURE_RETRY_AFTER_SECONDS: '7' })
  try {
    await waitUntil(() => app.pressure() !== null, 2000)
    const res = await query(app)
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('7')
    expect(res.json()).toEqual(SHED)
    const ready = await app.inject('/ready')
    expect(ready.statusCode).toBe(503)
    expect(ready.json()).toEqual({ status: 'unavailable', checks: { database: 'ok', redis: 'disabled', pressure: 'heapUsedBytes' } })
    const health = await app.inject('/health')
    expect(health.statusCode).toBe(200)
    expect(health.json()).toEqual({ status: 'ok' })
  } finally {
    await app.close()
  }
})

it('sheds while the event loop lags over PRESSURE_MAX_EVENT_LOOP_DELAY_MS, then serves again', async () => {
  const app = await buildTestApp(db.url, { PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '50', PRESSURE_SAMPLE_INTERVAL_MS: '300' })
  try {
    expect((await query(app)).statusCode).toBe(200)
    // block the event loop long enough that the mean delay sampled over 300 ms is over 50 ms
    const until = performance.now() + 2500
    while (performance.now() < until) { /* busy */ }
    // the overdue sample runs first; the next one is 300 ms away
    await waitUntil(() => app.pressure() !== null, 1000, 1)
    const shed = await query(app)
    const ready = await app.inject('/ready')
    expect(shed.statusCode).toBe(503)
    expect(shed.headers['retry-after']).toBe('10')
    expect(shed.json()).toEqual(SHED)
    expect(ready.statusCode).toBe(503)
    expect(ready.json().checks.pressure).toBe('eventLoopDelay')
    const recoveredAfterMs = await waitUntil(async () => (await query(app)).statusCode === 200, 3000)
    expect((await app.inject('/ready')).json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'disabled' } })
    report('event loop blocked 2.5 s', { thresholdMs: 50, sampleIntervalMs: 300, shedStatus: shed.statusCode, recoveredAfterMs })
  } finally {
    await app.close()
  }
})
