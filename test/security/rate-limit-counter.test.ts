// The rate-limit counter (src/rate-limit/counter.ts) answers a hit its lease covers synchronously:
// no promise per request on the common path. Only a Redis call, or waiting for one, is a promise.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createBreaker, noRedis } from '../../src/redis/breaker.js'
import { createCounter, LEASE_MIN } from '../../src/rate-limit/counter.js'
import { deleteRedisKeys, describeWith, TEST_REDIS_URL } from '../helpers/services.js'

it('without Redis, every hit is counted in memory and answered at once', () => {
  const counter = createCounter({ redis: null, breaker: noRedis })
  expect(counter('k', 1, 2, 60_000, false)).toEqual({ current: 1, ttl: expect.any(Number), allowed: true })
  counter('k', 1, 2, 60_000, false)
  expect(counter('k', 1, 2, 60_000, false)).toMatchObject({ current: 3, allowed: false })
})

describeWith('redis', 'rate-limit counter on Redis', () => {
  const prefix = `test-rlc-${randomBytes(4).toString('hex')}:`
  let redis: Redis
  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL!, { keyPrefix: prefix })
    await new Promise((resolve) => redis.once('ready', resolve))
  })
  afterAll(async () => { redis?.disconnect(); await deleteRedisKeys(prefix) })

  it('calls Redis for the first hit and for one that arrives meanwhile, then spends the lease synchronously', async () => {
    const counter = createCounter({ redis, breaker: createBreaker(redis, { failures: 5, resetMs: 1000, commandTimeoutMs: 1000 }) })
    const first = counter('key', 1, 1_000_000, 60_000, false)
    expect(first).toBeInstanceOf(Promise)
    // the first call is in flight: this one waits for it
    const waiting = counter('key', 1, 1_000_000, 60_000, false)
    expect(waiting).toBeInstanceOf(Promise)
    expect(await first).toMatchObject({ allowed: true })
    expect(await waiting).toMatchObject({ allowed: true })
    // the lease the first call brought (LEASE_MIN units) covers the next hits: plain values, counted
    const next = counter('key', 1, 1_000_000, 60_000, false)
    expect(next).not.toBeInstanceOf(Promise)
    expect(next).toMatchObject({ current: 3, allowed: true })
    for (let i = 0; i < LEASE_MIN - 2; i++) expect(counter('key', 1, 1_000_000, 60_000, false)).not.toBeInstanceOf(Promise)
    // the lease spent: Redis again
    expect(counter('key', 1, 1_000_000, 60_000, false)).toBeInstanceOf(Promise)
  })
})
