// Rate limits and cost budgets, shared through a real Redis by two app instances, and what happens
// when that Redis stops or hangs: every request still answers, under a per-instance limit.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import type { App } from '../../src/app.js'
import { buildTestApp, createTestDatabase, gql, token, type TestDatabase } from '../helpers/app.js'
import { startRedis, type PrivateRedis } from '../helpers/faults.js'
import { describeWith, TEST_REDIS_URL } from '../helpers/services.js'
import { buildLoggedApp, events } from './helpers.js'
import { Redis } from 'ioredis'
import { LEASE_MIN, LEASE_MS } from '../../src/rate-limit/counter.js'

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

const RATE_LIMITED = { errors: [{ message: expect.any(String), extensions: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) } }] }

/** two instances of the app sharing one Redis and one key prefix, as a deployment would */
async function pair (env: Record<string, string>, redisUrl = TEST_REDIS_URL!): Promise<[App, App]> {
  const shared = { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `test-rl-${randomBytes(4).toString('hex')}:`, ...env }
  return [await buildTestApp(db.url, shared), await buildTestApp(db.url, shared)]
}

describeWith('redis', 'request limit shared through Redis', () => {
  let a: App, b: App
  beforeAll(async () => { [a, b] = await pair({ RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' }) })
  afterAll(async () => { await a?.close(); await b?.close() })

  it('holds exactly across two instances: five 200s, then 429 with Retry-After and x-ratelimit-*', async () => {
    const statuses: number[] = []
    let last
    for (let i = 0; i < 7; i++) {
      last = await gql(i % 2 === 0 ? a : b, '{ user(id: "1") { id } }')
      statuses.push(last.statusCode)
    }
    process.stdout.write(`[security] two instances, RATE_LIMIT_MAX=5, alternating: ${JSON.stringify(statuses)}\n`)
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429])
    expect(last!.body).toEqual(RATE_LIMITED)
    expect(last!.headers).toMatchObject({ 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'retry-after': expect.stringMatching(/^\d+$/) })
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0)
    expect(Number(last!.headers['retry-after'])).toBeLessThanOrEqual(60)
  })

  it('holds exactly at a larger limit too, where instances lease units ahead', async () => {
    const [c, d] = await pair({ RATE_LIMIT_MAX: '40' })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 50; i++) statuses.push((await gql(i % 2 === 0 ? c : d, '{ me { id } }')).statusCode)
      expect(statuses).toEqual([...Array(40).fill(200), ...Array(10).fill(429)])
    } finally {
      await c.close(); await d.close()
    }
  })

  it('never limits /health, /ready or /metrics', async () => {
    for (const url of ['/health', '/ready', '/health', '/ready']) {
      const res = await a.inject({ method: 'GET', url })
      expect(res.statusCode).toBe(200)
      expect(res.headers['x-ratelimit-limit']).toBeUndefined()
    }
    expect((await a.inject({ method: 'GET', url: '/metrics' })).statusCode).not.toBe(429)
  })

  it('counts an authenticated caller by subject, apart from the IP and from other subjects', async () => {
    // the IP is spent (previous test); subjects 7 and 8 each get their own five
    for (const sub of ['7', '8']) {
      const statuses: number[] = []
      for (let i = 0; i < 6; i++) statuses.push((await gql(i % 2 === 0 ? a : b, '{ me { id } }', { token: token(sub) })).statusCode)
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429])
    }
  })

  it('counts requests with a bad token by IP before refusing them', async () => {
    const [c, d] = await pair({ RATE_LIMIT_MAX: '3' })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 5; i++) statuses.push((await gql(i % 2 === 0 ? c : d, '{ me { id } }', { token: 'forged.token.value' })).statusCode)
      expect(statuses).toEqual([401, 401, 401, 429, 429])
    } finally {
      await c.close(); await d.close()
    }
  })
})

describeWith('redis', 'cost budget shared through Redis', () => {
  it('charges each operation its cost; spent: 429 RATE_LIMITED, cheaper operations still fit', async () => {
    const [a, b] = await pair({ RATE_LIMIT_POINTS: '300' })
    try {
      const costly = '{ users(limit: 10) { posts(limit: 10) { id } } }' // 111
      const cheap = '{ users(limit: 10) { id } }' // 11
      const budget = (r: Awaited<ReturnType<typeof gql>>) => [r.statusCode, r.headers['x-ratelimit-cost'], Number(r.headers['x-ratelimit-points-remaining'])]
      expect(budget(await gql(a, costly))).toEqual([200, '111', 189])
      // b sees a's charge (and the points a holds in reserve, see src/rate-limit/counter.ts)
      const second = budget(await gql(b, costly))
      expect(second).toEqual([200, '111', expect.any(Number)])
      expect(second[2]).toBeLessThanOrEqual(78)
      const spent = await gql(a, costly)
      expect(budget(spent)[0]).toBe(429)
      expect(spent.body).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'RATE_LIMITED', cost: 111, remaining: expect.any(Number), retryAfter: expect.any(Number) } }] })
      expect(spent.body.errors![0].extensions.remaining).toBeLessThan(111)
      expect(Number(spent.headers['retry-after'])).toBeGreaterThan(0)
      expect(budget(await gql(b, cheap)).slice(0, 2)).toEqual([200, '11'])
    } finally {
      await a.close(); await b.close()
    }
  })
})

describeWith('redis', 'security events', () => {
  it('logs the first rate-limit rejection per client and window, and budget rejections, with IP and request id', async () => {
    const { app, logs } = await buildLoggedApp(db.url, { REDIS_URL: TEST_REDIS_URL, RATE_LIMIT_MAX: '2', RATE_LIMIT_POINTS: '20' })
    try {
      for (let i = 0; i < 4; i++) await gql(app, '{ me { id } }', { headers: { 'x-request-id': `flood-${i}` } })
      await gql(app, '{ users(limit: 10) { id } }', { token: token('5'), headers: { 'x-request-id': 'budget-1' } })
      await gql(app, '{ users(limit: 10) { id } }', { token: token('5'), headers: { 'x-request-id': 'budget-2' } })
      expect(events(logs).map((l) => ({ event: l.event, ip: l.ip, sub: l.sub, reqId: l.reqId }))).toEqual([
        { event: 'rate_limited', ip: '127.0.0.1', sub: undefined, reqId: 'flood-2' },
        { event: 'budget_exhausted', ip: '127.0.0.1', sub: '5', reqId: 'budget-2' }
      ])
    } finally {
      await app.close()
    }
  })
})

describeWith('redis', 'a Redis of our own', () => {
  let redis: PrivateRedis
  beforeAll(async () => { redis = await startRedis() })
  afterAll(async () => { await redis?.close() })

  it('spends leases locally: a busy client far from its limits costs a few Redis calls, not two per request', async () => {
    const app = await buildTestApp(db.url, { REDIS_URL: redis.url, RATE_LIMIT_MAX: '100000', RATE_LIMIT_POINTS: '10000000' })
    const stats = new Redis(redis.url)
    try {
      const scriptCalls = async () => {
        const info = await stats.info('commandstats')
        return [...info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)
      }
      const before = await scriptCalls()
      const started = performance.now()
      const statuses = new Set<number>()
      for (let i = 0; i < 100; i++) statuses.add((await gql(app, '{ users(limit: 10) { id } }', { token: token('1') })).statusCode)
      expect([...statuses]).toEqual([200])
      // the request limit and the budget: a call each, then one per LEASE_MS while their leases
      // last, plus the ramp (a lease is at most twice what the previous one served)
      const renewals = Math.ceil((performance.now() - started) / LEASE_MS)
      const ramp = Math.ceil(Math.log2(100 / LEASE_MIN))
      expect(await scriptCalls() - before).toBeLessThanOrEqual(2 * (1 + renewals + ramp))
    } finally {
      stats.disconnect()
      await app.close()
    }
  })

  it.each([
    ['stopped', (r: PrivateRedis) => r.stop()],
    ['hung (SIGSTOP)', (r: PrivateRedis) => { r.pause(); return Promise.resolve() }]
  ])('falls back to a per-instance limit while Redis is %s; requests never hang', async (_, fail) => {
    const [a, b] = await pair({ RATE_LIMIT_MAX: '3' }, redis.url)
    const c = await buildTestApp(db.url, { REDIS_URL: redis.url, RATE_LIMIT_POINTS: '30' })
    try {
      expect((await gql(a, '{ me { id } }')).statusCode).toBe(200)
      await fail(redis)
      // each instance counts on its own from the failure on (never unlimited), from what Redis last
      // told it: a had used 1 of 3 before, so 2 are left; b had never asked, so it has 3
      for (const [app, expected] of [[a, [200, 200, 429, 429]], [b, [200, 200, 200, 429]]] as const) {
        const statuses: number[] = []
        for (let i = 0; i < 4; i++) {
          const started = performance.now()
          statuses.push((await gql(app, '{ me { id } }')).statusCode)
          // a deadline as behaviour: REDIS_COMMAND_TIMEOUT_MS is 50 ms, allow a busy machine
          expect(performance.now() - started).toBeLessThan(2000)
        }
        expect(statuses).toEqual(expected)
      }
      // the cost budget falls back too: 30 points, 11 per query
      const statuses: number[] = []
      for (let i = 0; i < 3; i++) statuses.push((await gql(c, '{ users(limit: 10) { id } }')).statusCode)
      expect(statuses).toEqual([200, 200, 429])
    } finally {
      await a.close(); await b.close(); await c.close()
      redis.resume()
      await redis.stop()
      await redis.start()
    }
  }, 30_000)
})
