// Concurrent requests of one client against the shared request limit: a burst within the limit all
// passes (one Redis call per key at a time on each instance, src/rate-limit/counter.ts), the limit
// holds exactly under pipelining, and the window's counter in Redis stays near the real requests.
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { LEASE_DIVISOR } from '../../src/rate-limit/counter.js'
import { buildTestApp, createTestDatabase, gql, token, type TestDatabase } from '../helpers/app.js'
import { deleteRedisKeys, describeWith, TEST_REDIS_URL } from '../helpers/services.js'

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

const prefixes: string[] = []
afterAll(async () => { for (const p of prefixes) await deleteRedisKeys(p) })

// A 50 ms command timeout on a busy test machine would send some hits to the per-instance
// fallback (the outage behaviour, tested in rate-limit.test.ts): exactness is tested on an
// answering Redis. The huge-limit test keeps the default, where a lost answer must strand little.
const ANSWERING = { REDIS_COMMAND_TIMEOUT_MS: '2000' }

async function instances (n: number, env: Record<string, string>): Promise<App[]> {
  const prefix = `test-rlb-${randomBytes(4).toString('hex')}:`
  prefixes.push(prefix)
  const shared = { REDIS_URL: TEST_REDIS_URL!, REDIS_KEY_PREFIX: prefix, ...env }
  return Promise.all(Array.from({ length: n }, () => buildTestApp(db.url, shared)))
}

const tally = (statuses: number[]) => statuses.reduce<Record<number, number>>((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {})

/** the request-limit counters in Redis under the apps' prefix */
async function counters (app: App): Promise<number[]> {
  const prefix = app.redis!.options.keyPrefix!
  const raw = new Redis(TEST_REDIS_URL!)
  try {
    const keys = await raw.keys(`${prefix}rl:req:*`)
    return Promise.all(keys.map(async (k) => Number(await raw.get(k))))
  } finally {
    raw.disconnect()
  }
}

/** `count` POST /graphql requests written at once on one socket; the status of each response */
async function pipelined (app: App, count: number, headers: Record<string, string>): Promise<number[]> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const body = JSON.stringify({ query: '{ __typename }' })
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
  const one = `POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      received += chunk
      const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
      if (statuses.length >= count) { socket.destroy(); resolve(statuses) }
    })
    socket.on('error', reject)
    socket.write(one.repeat(count))
  })
}

describeWith('redis', 'bursts against the request limit', () => {
  it('lets 50 concurrent first requests of a fresh subject through at a limit of 100', async () => {
    const [app] = await instances(1, { RATE_LIMIT_MAX: '100', ...ANSWERING })
    try {
      const statuses = (await Promise.all(Array.from({ length: 50 }, () => gql(app, '{ __typename }', { token: token('1') })))).map((r) => r.statusCode)
      process.stdout.write(`[security] 50 concurrent, RATE_LIMIT_MAX=100: ${JSON.stringify(tally(statuses))}\n`)
      expect(tally(statuses)).toEqual({ 200: 50 })
      // and the client is not locked out: the other 50 of the window still pass
      expect((await gql(app, '{ __typename }', { token: token('1') })).statusCode).toBe(200)
    } finally {
      await app.close()
    }
  })

  it('holds exactly under pipelining: 101 requests on one socket at a limit of 100 give 100 x 200 and 1 x 429', async () => {
    const [app] = await instances(1, { RATE_LIMIT_MAX: '100', ...ANSWERING })
    try {
      const statuses = await pipelined(app, 101, { authorization: `Bearer ${token('2')}` })
      process.stdout.write(`[security] 101 pipelined, RATE_LIMIT_MAX=100: ${JSON.stringify(tally(statuses))}\n`)
      expect(tally(statuses)).toEqual({ 200: 100, 429: 1 })
    } finally {
      await app.close()
    }
  })

  it('two instances, 50 concurrent on each at a limit of 200: all pass, and the counter stays near the real requests', async () => {
    const apps = await instances(2, { RATE_LIMIT_MAX: '200', ...ANSWERING })
    try {
      const statuses = (await Promise.all(apps.flatMap((app) => Array.from({ length: 50 }, () => gql(app, '{ __typename }', { token: token('3') }))))).map((r) => r.statusCode)
      expect(tally(statuses)).toEqual({ 200: 100 })
      const [counter] = await counters(apps[0])
      // real requests plus at most one lease per instance (a share of what is left)
      expect(counter).toBeLessThanOrEqual(100 + 2 * Math.ceil(200 / LEASE_DIVISOR))
    } finally {
      await Promise.all(apps.map((a) => a.close()))
    }
  })

  it('a huge limit is never reached by far fewer requests: the counter is the real requests plus the leases held', async () => {
    const max = 1_000_000
    const apps = await instances(2, { RATE_LIMIT_MAX: String(max) })
    try {
      let sent = 0
      const statuses: number[] = []
      for (let round = 0; round < 10; round++) {
        const batch = apps.flatMap((app) => Array.from({ length: 100 }, () => gql(app, '{ __typename }', { token: token('4') })))
        sent += batch.length
        statuses.push(...(await Promise.all(batch)).map((r) => r.statusCode))
      }
      expect(tally(statuses)).toEqual({ 200: sent })
      const [counter] = await counters(apps[0])
      process.stdout.write(`[security] ${sent} requests in bursts of 100 per instance, RATE_LIMIT_MAX=${max}: counter ${counter}\n`)
      expect(counter).toBeGreaterThanOrEqual(sent)
      expect(counter).toBeLessThanOrEqual(sent + 2 * Math.ceil(max / LEASE_DIVISOR))
    } finally {
      await Promise.all(apps.map((a) => a.close()))
    }
  })

  it('the cost budget under a burst: concurrent operations within the budget all pass, the next one over it is refused', async () => {
    const [app] = await instances(1, { RATE_LIMIT_POINTS: '1100', ...ANSWERING })
    try {
      const q = '{ users(limit: 10) { id } }' // 11 points
      const statuses = (await Promise.all(Array.from({ length: 100 }, () => gql(app, q, { token: token('5') })))).map((r) => r.statusCode)
      expect(tally(statuses)).toEqual({ 200: 100 })
      expect((await gql(app, q, { token: token('5') })).statusCode).toBe(429)
    } finally {
      await app.close()
    }
  })
})
