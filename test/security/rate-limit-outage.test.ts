// The rate limit while Redis hangs: each instance falls back to its own memory, starting from the
// window total Redis last reported, so an outage lets through what was left of the limit, not a
// whole new one. Two instances (two clients and breakers) share a private redis-server, which the
// test then hangs with SIGSTOP.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createRedis } from '../../src/plugins/redis.js'
import { createBreaker, type RedisBreaker } from '../../src/redis/breaker.js'
import { createCounter, type Counter } from '../../src/rate-limit/counter.js'
import { startRedis, waitUntil, type PrivateRedis } from '../helpers/faults.js'
import { describeWith } from '../helpers/services.js'

const LIMIT = 100
const WINDOW_MS = 60_000

describeWith('redis', 'the request limit through a Redis outage', () => {
  let redis: PrivateRedis
  const clients: Array<ReturnType<typeof createRedis>> = []

  async function instance (resetMs = 60_000): Promise<{ counter: Counter, breaker: RedisBreaker }> {
    const client = createRedis({ url: redis.url, commandTimeoutMs: 100, keyPrefix: 'outage-test:', name: 'outage-test' })
    clients.push(client)
    await client.connect()
    const breaker = createBreaker(client, { failures: 2, resetMs, commandTimeoutMs: 100 })
    return { counter: createCounter({ redis: client, breaker }), breaker }
  }

  async function hits (counter: Counter, n: number, key = 'rl:req:u:1'): Promise<number> {
    let allowed = 0
    for (let i = 0; i < n; i++) if ((await counter(key, 1, LIMIT, WINDOW_MS, false)).allowed) allowed++
    return allowed
  }

  beforeAll(async () => { redis = await startRedis() })
  afterAll(async () => {
    for (const c of clients) c.disconnect()
    await redis?.close()
  })

  it('lets through at most what was left of the limit, on an instance that had seen the others use most of it', async () => {
    const { counter: a } = await instance()
    const { counter: b } = await instance()
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

  it('tells Redis, once it answers again, what an instance let through meanwhile: the others do not start afresh', async () => {
    const key = 'rl:req:u:2'
    const a = await instance(100)
    const before = await hits(a.counter, 20, key)
    redis.pause()
    let during: number
    try {
      during = await hits(a.counter, 30, key)
    } finally {
      redis.resume()
    }
    expect(before + during).toBe(50)
    await waitUntil(() => a.breaker.state === 'closed', 5_000)
    // a's next call carries the 30 it counted in memory
    const after = await hits(a.counter, 1, key)
    // an instance that knew nothing of the outage (without the debt, 111 of 100 went through in all)
    const b = await instance()
    const others = await hits(b.counter, LIMIT, key)
    expect(before + during + after + others).toBeLessThanOrEqual(LIMIT)
    expect(others).toBeGreaterThan(0)
  })

  it('records the debt of a cost budget even when the call that carries it is refused', async () => {
    const key = 'rl:pts:u:3'
    const spend = async (counter: Counter, points: number, times: number) => {
      let allowed = 0
      for (let i = 0; i < times; i++) if ((await counter(key, points, LIMIT, WINDOW_MS, true)).allowed) allowed += points
      return allowed
    }
    const a = await instance(100)
    const before = await spend(a.counter, 10, 2)
    redis.pause()
    let during: number
    try {
      during = await spend(a.counter, 10, 6)
    } finally {
      redis.resume()
    }
    expect(before + during).toBe(80)
    await waitUntil(() => a.breaker.state === 'closed', 5_000)
    // 60 more do not fit: refused, yet the 60 spent from memory reach Redis with this call
    expect((await a.counter(key, 60, LIMIT, WINDOW_MS, true)).allowed).toBe(false)
    // Redis counts it all (and the calls that timed out, which ran when Redis woke: the safe side)
    expect(Number(await clients.at(-1)!.get(key))).toBeGreaterThanOrEqual(before + during)
    const b = await instance()
    const others = await spend(b.counter, 1, LIMIT)
    // with the debt dropped by the refusal, b saw about 25 used and let through 70 or so
    expect(before + during + others).toBeLessThanOrEqual(LIMIT)
  })
})
