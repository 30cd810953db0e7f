// PostgreSQL goes away under traffic, behind a TCP proxy of the test's own (the shared server is
// never touched): requests end quickly with SERVICE_UNAVAILABLE or TIMEOUT (no hang, no stack, no
// address), /ready turns 503 within 2 s, and when the database returns the server recovers with no
// restart and no leaked pool slots.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { buildTestApp, createTestDatabase, gql, type TestDatabase } from '../helpers/app.js'
import { percentile, report, startProxy, traffic, waitUntil, type Proxy, type Sample } from '../helpers/faults.js'

const QUERY = '{ users(limit: 5) { id name posts(limit: 2) { id } } }'
const POOL_MAX = 5

describe('database outage', () => {
  let db: TestDatabase
  let proxy: Proxy
  let app: App

  beforeAll(async () => {
    db = await createTestDatabase()
    proxy = await startProxy(Number(new URL(db.url).port || 5432))
    app = await buildTestApp(proxy.url(db.url), {
      // the database path itself is under test: no resolver cache in front of it
      CACHE_TTL_SECONDS: '0',
      RATE_LIMIT_MAX: '0', RATE_LIMIT_POINTS: '0',
      DATABASE_POOL_MIN: '0', DATABASE_POOL_MAX: String(POOL_MAX), DATABASE_CONNECT_TIMEOUT_MS: '2000',
      QUERY_TIMEOUT_MS: '1000', READY_CHECK_TIMEOUT_MS: '500'
    })
  })
  afterAll(async () => {
    await app?.close()
    await proxy?.close()
    await db?.drop()
  })

  const send = async () => {
    const res = await gql(app, QUERY)
    const text = JSON.stringify(res.body)
    // never a stack, an address or pg's own wording
    if (/127\.0\.0\.1|ECONN|Connection terminated|at .*\.js|stack/.test(text)) throw new Error(`leaked detail: ${text}`)
    return { status: res.statusCode, codes: (res.body.errors ?? []).map((e) => e.extensions.code) }
  }
  const ready = async () => (await app.inject('/ready')).statusCode
  const ok = (s: Sample) => s.status === 200 && s.codes.length === 0

  async function outage (mode: 'drop' | 'blackhole', outageMs: number) {
    const load = traffic(send, 6)
    // some normal traffic first (however busy the machine is)
    await waitUntil(() => load.samples.filter(ok).length >= 30, 20_000)
    const cutAt = performance.now()
    proxy.set(mode)
    const readyFailedAfterMs = await waitUntil(async () => await ready() === 503, 5000)
    await new Promise((resolve) => setTimeout(resolve, outageMs))
    const restoredAt = performance.now()
    proxy.set('pass')
    const readyAgainAfterMs = await waitUntil(async () => await ready() === 200, 15_000)
    // recovered: the last failure is 700 ms old and requests succeed since
    const lastFailureEnd = () => Math.max(restoredAt, ...load.samples.filter((s) => !ok(s)).map((s) => s.startedAt + s.ms))
    // (lastFailureEnd once per poll: per sample, it made each poll quadratic, a stall of most of a
    // second once thousands of fast failures had piled up, which then timed requests out)
    await waitUntil(() => {
      const end = lastFailureEnd()
      return performance.now() - end > 700 && load.samples.some((s) => s.startedAt > end && ok(s))
    }, 15_000, 50)
    const recoveredAfterMs = Math.round(lastFailureEnd() - restoredAt)
    const samples = await load.stop()
    // every answer, whenever it came, is a success or a clean, coded failure
    const codes = new Set(samples.flatMap((s) => s.codes))
    const before = samples.filter((s) => s.startedAt + s.ms < cutAt)
    const during = samples.filter((s) => s.startedAt >= cutAt && s.startedAt + s.ms < restoredAt)
    const after = samples.filter((s) => s.startedAt > restoredAt + recoveredAfterMs)
    return { samples, codes, before, during, after, readyFailedAfterMs, readyAgainAfterMs, recoveredAfterMs }
  }

  function poolSettled () {
    const { pool } = app.db
    return { waiting: pool.waitingCount, idle: pool.idleCount, total: pool.totalCount }
  }

  it('drops every connection: clean errors fast, /ready 503 within 2 s, recovery without leaks', async () => {
    const r = await outage('drop', 1500)
    const failed = r.during.filter((s) => !ok(s))
    const codes = r.codes
    report('postgres connections dropped', {
      sent: r.samples.length, before: r.before.length, during: r.during.length, failedDuring: failed.length,
      codesDuring: [...codes], p99DuringMs: Math.round(percentile(r.during.map((s) => s.ms), 99)), maxDuringMs: Math.round(Math.max(...r.during.map((s) => s.ms))),
      readyFailedAfterMs: r.readyFailedAfterMs, readyAgainAfterMs: r.readyAgainAfterMs, recoveredAfterMs: r.recoveredAfterMs, failedAfter: r.after.filter((s) => !ok(s)).length
    })
    expect(r.before.length).toBeGreaterThan(0)
    expect(r.before.every(ok)).toBe(true)
    expect(failed.length).toBeGreaterThan(0)
    expect([...codes].every((c) => c === 'SERVICE_UNAVAILABLE' || c === 'TIMEOUT')).toBe(true)
    expect(r.samples.every((s) => s.status === 200)).toBe(true)
    expect(r.during.every((s) => s.ms < 4000)).toBe(true)
    expect(failed.length).toBe(r.during.length)
    expect(r.readyFailedAfterMs).toBeLessThan(2000)
    expect(r.after.length).toBeGreaterThan(0)
    expect(r.after.every(ok)).toBe(true)
    expect(r.recoveredAfterMs).toBeLessThan(2000)
    await waitUntil(() => app.db.pool.idleCount === app.db.pool.totalCount, 2000)
    expect(poolSettled()).toEqual({ waiting: 0, idle: app.db.pool.totalCount, total: app.db.pool.totalCount })
    expect(app.db.pool.totalCount).toBeLessThanOrEqual(POOL_MAX)
  })

  it('survives a partition (connections go silent): requests end by their deadline, slots come back', async () => {
    const r = await outage('blackhole', 2500)
    const failed = r.during.filter((s) => !ok(s))
    const codes = r.codes
    report('postgres partitioned (silent connections)', {
      sent: r.samples.length, during: r.during.length, failedDuring: failed.length, codesDuring: [...codes],
      maxDuringMs: Math.round(Math.max(...r.during.map((s) => s.ms))), readyFailedAfterMs: r.readyFailedAfterMs,
      readyAgainAfterMs: r.readyAgainAfterMs, recoveredAfterMs: r.recoveredAfterMs, failedAfter: r.after.filter((s) => !ok(s)).length
    })
    expect([...codes].every((c) => c === 'SERVICE_UNAVAILABLE' || c === 'TIMEOUT')).toBe(true)
    expect(failed.length).toBeGreaterThan(0)
    // QUERY_TIMEOUT_MS 1000 bounds each request, DATABASE_CONNECT_TIMEOUT_MS 2000 the wait for a slot
    expect(r.samples.every((s) => s.status === 200)).toBe(true)
    expect(r.during.every((s) => s.ms < 5000)).toBe(true)
    expect(r.readyFailedAfterMs).toBeLessThan(2000)
    expect(r.after.every(ok)).toBe(true)
    // silent connections are given up after QUERY_TIMEOUT_MS + 2 s (pg's query_timeout)
    expect(r.recoveredAfterMs).toBeLessThan(6000)
    await waitUntil(() => app.db.pool.idleCount === app.db.pool.totalCount, 5000)
    expect(poolSettled()).toEqual({ waiting: 0, idle: app.db.pool.totalCount, total: app.db.pool.totalCount })
  })
})
