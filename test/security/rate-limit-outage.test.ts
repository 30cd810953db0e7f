// The rate limit while Redis hangs: each instance falls back to its own memory, starting from the
// window total Redis last reported, so an outage lets through what was left of the limit, not a
// whole new one. Two instances (two clients and breakers) share a private redis-server, which the
// test then hangs with SIGSTOP.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createRedis } from '../../src/plugins/redis.js'
import { createBreaker } from '../../src/redis/breaker.js'
import { createCounter, type Counter } from '../../src/rate-limit/counter.js'
import { startRedis, type PrivateRedis } from '../helpers/faults.js'
import { describeWith } from '../helpers/services.js'

const LIMIT = 100
const WINDOW_MS = 60_000

describeWith('redis', 'the request limit through a Redis outage', () => {
  let redis: PrivateRedis
  const clients: Array<ReturnType<typeof createRedis>> = []

  async function instance (): Promise<Counter> {
    const client = createRedis({ url: redis.url, commandTimeoutMs: 100, keyPrefix: 'outage-test:', name: 'outage-test' })
    clients.push(client)
    await client.connect()
    const breaker = createBreaker(client, { failures: 2, resetMs: 60_000, commandTimeoutMs: 100 })
    return createCounter({ redis: client, breaker })
  }

  async function hits (counter: Counter, n: number): Promise<number> {
    let allowed = 0
    for (let i = 0; i < n; i++) if ((await counter('rl:req:u:1', 1, LIMIT, WINDOW_MS, false)).allowed) allowed++
    return allowed
  }

  beforeAll(async () => { redis = await startRedis() })
  afterAll(async () => {
    for (const c of clients) c.disconnect()
    await redis?.close()
  })

  it('lets through at most what was left of the limit, on an instance that had seen the others use most of it', async () => {
    const a = await instance()
    const b = await instance()
    const before = await hits(a, 40) + await hits(b, 40) + await hits(a, 10)
    expect(before).toBe(90)

    redis.pause()
    try {
      const during = await hits(a, LIMIT)
      // without the last known total, a's memory started from zero: ~100 more went through
      expect(before + during).toBeLessThanOrEqual(LIMIT)
      expect(during).toBeGreaterThan(0)
    } finally {
      redis.resume()
    }
  })
})
