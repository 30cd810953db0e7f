// A PostgreSQL cluster of the test's own is restarted under traffic (pg_ctl stop -m fast: sessions
// are terminated with 57P01, then connections are refused): clean SERVICE_UNAVAILABLE answers,
// /ready 503 within 2 s, and recovery with no restart of the server and no leaked pool slots.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { migrate } from '../../src/db/migrate.js'
import { seedDatabase } from '../../src/db/seed.js'
import { buildTestApp, gql } from '../helpers/app.js'
import { percentile, report, startPostgres, traffic, waitUntil, type PrivatePostgres } from '../helpers/faults.js'

describe('database restart', () => {
  let pg: PrivatePostgres
  let app: App

  beforeAll(async () => {
    pg = await startPostgres()
    await migrate({ connection: pg.url })
    await seedDatabase(pg.url)
    app = await buildTestApp(pg.url, {
      // the database path itself is under test: no resolver cache in front of it
      CACHE_TTL_SECONDS: '0',
      DATABASE_POOL_MIN: '2', DATABASE_POOL_MAX: '4', DATABASE_CONNECT_TIMEOUT_MS: '1000', READY_CHECK_TIMEOUT_MS: '500',
      RATE_LIMIT_MAX: '0', RATE_LIMIT_POINTS: '0'
    })
  }, 120_000)
  afterAll(async () => {
    await app?.close()
    await pg?.close()
  })

  it('answers SERVICE_UNAVAILABLE while PostgreSQL restarts, then recovers by itself', async () => {
    const load = traffic(async () => {
      const res = await gql(app, '{ users(limit: 3) { id posts(limit: 1) { id } } }')
      if (/127\.0\.0\.1|terminating connection|ECONN/.test(JSON.stringify(res.body))) throw new Error(`leaked detail: ${JSON.stringify(res.body)}`)
      return { status: res.statusCode, codes: (res.body.errors ?? []).map((e) => e.extensions.code) }
    }, 4)
    const ok = (s: { status: number, codes: string[] }) => s.status === 200 && s.codes.length === 0
    await waitUntil(() => load.samples.filter(ok).length >= 20, 20_000)
    const stoppingAt = performance.now()
    await pg.stop()
    const stoppedAt = performance.now()
    const readyFailedAfterMs = await waitUntil(async () => (await app.inject('/ready')).statusCode === 503, 5000)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const startedAt = performance.now()
    await pg.start()
    const upAt = performance.now()
    const readyAgainMs = await waitUntil(async () => (await app.inject('/ready')).statusCode === 200, 15_000)
    const recoveredMs = await waitUntil(() => load.samples.some((s) => s.startedAt > performance.now() - 200 && ok(s)), 10_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const samples = await load.stop()

    const during = samples.filter((s) => s.startedAt > stoppedAt && s.startedAt + s.ms < startedAt)
    const codes = new Set(samples.flatMap((s) => s.codes))
    const tail = samples.filter((s) => s.startedAt > upAt + readyAgainMs + recoveredMs + 200)
    report('postgres restarted (pg_ctl stop -m fast, start)', {
      requests: samples.length, during: during.length, failedDuring: during.filter((s) => !ok(s)).length, codes: [...codes],
      maxDuringMs: Math.round(Math.max(0, ...during.map((s) => s.ms))), p99DuringMs: Math.round(percentile(during.map((s) => s.ms), 99)),
      pgCtlStopMs: Math.round(stoppedAt - stoppingAt), downMs: Math.round(upAt - stoppedAt), readyFailedAfterMs, readyAgainAfterStartMs: readyAgainMs, failedAfterRecovery: tail.filter((s) => !ok(s)).length
    })
    expect(samples.every((s) => s.status === 200)).toBe(true)
    expect([...codes].every((c) => c === 'SERVICE_UNAVAILABLE')).toBe(true)
    expect(during.length).toBeGreaterThan(0)
    // while the server is down every request fails, fast
    expect(during.every((s) => !ok(s) && s.ms < 3000)).toBe(true)
    expect(readyFailedAfterMs).toBeLessThan(2000)
    expect(tail.length).toBeGreaterThan(0)
    expect(tail.every(ok)).toBe(true)
    const { pool } = app.db
    await waitUntil(() => pool.idleCount === pool.totalCount, 3000)
    expect({ waiting: pool.waitingCount, idle: pool.idleCount }).toEqual({ waiting: 0, idle: pool.totalCount })
    expect(pool.totalCount).toBeLessThanOrEqual(4)
  }, 60_000)
})
