// The Redis circuit breaker against a redis-server of the test's own: a hung Redis costs the
// command timeout only until the breaker opens; then calls take their fallback at once, one probe
// per reset period tries Redis again, and it closes as soon as Redis answers.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { createRedis } from '../../src/plugins/redis.js'
import { createBreaker, type RedisBreaker } from '../../src/redis/breaker.js'
import { report, startRedis, waitUntil, type PrivateRedis } from '../helpers/faults.js'
import { describeWith } from '../helpers/services.js'

describeWith('redis', 'redis circuit breaker', () => {
  const TIMEOUT_MS = 50
  let server: PrivateRedis
  let redis: Redis
  let breaker: RedisBreaker
  const states: string[] = []

  beforeAll(async () => {
    server = await startRedis()
    redis = createRedis({ url: server.url, commandTimeoutMs: TIMEOUT_MS, keyPrefix: 'breaker-test:' })
    redis.on('error', () => {})
    breaker = createBreaker(redis, { failures: 3, resetMs: 300, commandTimeoutMs: TIMEOUT_MS, onStateChange: (s) => states.push(s) })
    await redis.connect()
  })
  afterAll(async () => {
    redis?.disconnect()
    await server?.close()
  })

  const get = () => breaker.run((r) => r.get('k'), (err) => `fallback:${err?.constructor.name}`)
  async function timed<T> (fn: () => Promise<T>) {
    const started = performance.now()
    const value = await fn()
    return { value, ms: performance.now() - started }
  }

  it('opens after consecutive timeouts of a hung Redis, probes it in the background, and closes when it answers', async () => {
    await redis.set('k', 'v')
    expect(await get()).toBe('v')
    expect(breaker.state).toBe('closed')

    server.pause()
    let resumedAt = 0
    try {
      const failing = []
      for (let i = 0; i < 3; i++) failing.push(await timed(get))
      expect(failing.map((f) => f.value)).toEqual(['fallback:Error', 'fallback:Error', 'fallback:Error'])
      expect(failing.every((f) => f.ms >= TIMEOUT_MS - 5)).toBe(true)
      expect(breaker.state).toBe('open')
      // open: no Redis call, no wait, also while a probe is out (half-open)
      const skipped = []
      for (let i = 0; i < 50; i++) skipped.push(await timed(get))
      await new Promise((resolve) => setTimeout(resolve, 400))
      for (let i = 0; i < 50; i++) skipped.push(await timed(get))
      expect(new Set(skipped.map((s) => s.value))).toEqual(new Set(['fallback:BreakerOpenError']))
      const slowest = Math.max(...skipped.map((s) => s.ms))
      expect(slowest).toBeLessThan(TIMEOUT_MS / 2)
      // the background probe (a PING after resetMs) found Redis still hung
      expect(states.slice(0, 4)).toEqual(['closed', 'open', 'half-open', 'open'])
      report('redis hung (SIGSTOP), breaker', { timeoutsBeforeOpen: failing.length, skippedCalls: skipped.length, slowestSkippedMs: +slowest.toFixed(2) })
    } finally {
      server.resume()
      resumedAt = performance.now()
    }
    // the next probe succeeds: closed without any request paying for it
    await waitUntil(() => breaker.state === 'closed', 2000, 5)
    report('redis resumed, breaker', { closedAfterMs: Math.round(performance.now() - resumedAt), resetMs: 300 })
    expect(await get()).toBe('v')
    // it starts open (not yet connected) and closes on connect
    expect(states[0]).toBe('closed')
    expect(states.at(-1)).toBe('closed')
    expect(states.at(-2)).toBe('half-open')
  })

  it('follows the connection: a stopped Redis opens it at once, a reconnected one closes it', async () => {
    states.length = 0
    await server.stop()
    await waitUntil(() => breaker.state === 'open', 2000)
    const down = await timed(get)
    expect(down.value).toBe('fallback:BreakerOpenError')
    expect(down.ms).toBeLessThan(TIMEOUT_MS / 2)
    const restarted = performance.now()
    await server.start()
    const closedAfterMs = await waitUntil(() => breaker.state === 'closed', 5000)
    expect(await get()).toBe(null) // a fresh server, no data
    expect(states).toEqual(['open', 'closed'])
    report('redis stopped and started, breaker', { closedAfterRestartMs: Math.round(performance.now() - restarted), polledMs: closedAfterMs })
  })
})
