// Redis goes away under traffic (a redis-server of the test's own, stopped, then hung with
// SIGSTOP): requests keep succeeding (rate limits fall back to this instance's memory), /ready
// stays 200 with redis: degraded, p99 latency stays within 2x its normal value because the
// circuit breaker skips a dead Redis instead of waiting for it, and everything recovers.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import type { App } from '../../src/app.js'
import { buildTestApp, createTestDatabase, gql, type TestDatabase } from '../helpers/app.js'
import { percentile, report, startRedis, traffic, waitUntil, type PrivateRedis, type Sample } from '../helpers/faults.js'
import { describeWith } from '../helpers/services.js'

const COMMAND_TIMEOUT_MS = 250

describeWith('redis', 'redis outage', () => {
  let db: TestDatabase
  let redis: PrivateRedis
  let app: App

  beforeAll(async () => {
    db = await createTestDatabase()
    redis = await startRedis()
    // rate limits on (two Redis scripts per request) but far above what the test sends; a long
    // command timeout, so that a request that waits for the hung Redis stands out from any noise
    app = await buildTestApp(db.url, {
      REDIS_URL: redis.url, RATE_LIMIT_MAX: '100000000', RATE_LIMIT_POINTS: '1000000000',
      REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS), REDIS_BREAKER_FAILURES: '2'
    })
  })
  afterAll(async () => {
    await app?.close()
    await redis?.close()
    await db?.drop()
  })

  const send = async () => {
    const res = await gql(app, '{ users(limit: 5) { id name } }')
    return { status: res.statusCode, codes: (res.body.errors ?? []).map((e) => e.extensions.code) }
  }
  const ready = async () => { const r = await app.inject('/ready'); return { status: r.statusCode, redis: r.json().checks.redis as string } }
  /** scripts Redis has run since it started: proof that requests reach it */
  async function scripts (): Promise<number> {
    const probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 })
    try {
      await probe.connect()
      const stats = await probe.info('commandstats')
      return [...stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)
    } finally {
      probe.disconnect()
    }
  }
  async function phase (ms: number, minSamples = 300): Promise<Sample[]> {
    const load = traffic(send, 4)
    const until = performance.now() + ms
    await waitUntil(() => performance.now() > until && load.samples.length >= minSamples, ms + 20_000, 50)
    return load.stop()
  }
  const p99 = (s: Sample[]) => +percentile(s.map((x) => x.ms), 99).toFixed(1)
  const allOk = (s: Sample[]) => s.every((x) => x.status === 200 && x.codes.length === 0)

  it('keeps serving through a stopped and a hung Redis, within 2x the normal p99, and recovers', async () => {
    await phase(300, 50) // warm-up: connections, compiled queries
    const normal = await phase(1500)
    expect(allOk(normal)).toBe(true)
    expect(await scripts()).toBeGreaterThan(0)
    const bound = (base: number) => Math.max(2 * base, base + 15)

    // 1. stopped: the connection closes, the breaker opens at once
    await redis.stop()
    await waitUntil(async () => (await ready()).redis === 'degraded', 3000)
    expect(await ready()).toEqual({ status: 200, redis: 'degraded' })
    const stopped = await phase(1500)
    const restartedAt = performance.now()
    await redis.start()
    await waitUntil(async () => (await ready()).redis === 'ok', 10_000)
    const stoppedRecoveryMs = Math.round(performance.now() - restartedAt)
    const afterRestart = await phase(500, 50)
    expect(allOk(afterRestart)).toBe(true)
    // shared again: the fresh server sees the scripts
    expect(await scripts()).toBeGreaterThan(0)

    // 2. hung: connections stay open and silent; timeouts open the breaker
    redis.pause()
    let hung: Sample[]
    let degradedDuringHang: { status: number, redis: string }
    try {
      hung = await phase(2500, 600)
      degradedDuringHang = await ready()
    } finally {
      redis.resume()
    }
    const resumedAt = performance.now()
    await waitUntil(async () => (await ready()).redis === 'ok', 10_000)
    const hungRecoveryMs = Math.round(performance.now() - resumedAt)
    const after = await phase(500, 50)

    report('redis outage under traffic (4 workers)', {
      normal: { requests: normal.length, p99Ms: p99(normal) },
      stopped: { requests: stopped.length, failed: stopped.filter((s) => s.status !== 200 || s.codes.length).length, p99Ms: p99(stopped), recoveryMs: stoppedRecoveryMs },
      hung: {
        requests: hung.length, failed: hung.filter((s) => s.status !== 200 || s.codes.length).length, p99Ms: p99(hung),
        waitedForRedis: hung.filter((s) => s.ms >= COMMAND_TIMEOUT_MS).length, recoveryMs: hungRecoveryMs
      },
      boundMs: bound(p99(normal))
    })
    expect(allOk(stopped)).toBe(true)
    expect(allOk(hung)).toBe(true)
    expect(allOk(after)).toBe(true)
    expect(degradedDuringHang).toEqual({ status: 200, redis: 'degraded' })
    expect(p99(stopped)).toBeLessThanOrEqual(bound(p99(normal)))
    expect(p99(hung)).toBeLessThanOrEqual(bound(p99(normal)))
    // only the requests in flight when Redis hung waited for it (REDIS_BREAKER_FAILURES = 2)
    expect(hung.filter((s) => s.ms >= COMMAND_TIMEOUT_MS).length).toBeLessThanOrEqual(6)
  }, 90_000)
})
