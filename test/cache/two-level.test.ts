// The two-level cache on its own, against the real Redis: two caches stand for two instances.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { APPEND_WINDOW, createTwoLevelCache, orderedList, type Cache } from '../../src/cache/two-level.js'
import { createRedis } from '../../src/plugins/redis.js'
import { createBreaker } from '../../src/redis/breaker.js'
import { deleteRedisKeys, describeWith, TEST_REDIS_URL } from '../helpers/services.js'

describeWith('redis', 'two-level cache', () => {
  const prefix = `test-cache-${randomBytes(4).toString('hex')}:`
  const clients: Redis[] = []
  const caches: Cache[] = []
  const lookups = { hit: 0, miss: 0 }

  const received: Array<{ cache: number, tags: string[] }> = []
  async function instance () {
    const index = caches.length
    const redis = createRedis({ url: TEST_REDIS_URL!, commandTimeoutMs: 1000, keyPrefix: prefix })
    await redis.connect()
    clients.push(redis)
    const cache = await createTwoLevelCache({
      ttlSeconds: 30, redis, prefix, breaker: createBreaker(redis, { failures: 3, resetMs: 1000, commandTimeoutMs: 1000 }),
      events: {
        lookup: (_name, hit) => { lookups[hit ? 'hit' : 'miss']++ },
        remoteInvalidation: (tags) => { received.push({ cache: index, tags }) }
      }
    })
    caches.push(cache)
    return cache
  }
  let a: Cache
  let b: Cache
  let raw: Redis
  beforeAll(async () => {
    a = await instance()
    b = await instance()
    raw = createRedis({ url: TEST_REDIS_URL!, commandTimeoutMs: 1000, keyPrefix: '' })
    await raw.connect()
  })
  afterAll(async () => {
    for (const c of caches) await c.close()
    raw.disconnect()
    await deleteRedisKeys(prefix)
    for (const r of clients) r.disconnect()
  })

  it('loads once, then answers from memory; another instance answers from Redis', async () => {
    let loads = 0
    const load = async () => { loads++; return { n: 1 } }
    expect(await a.get('t', 'k1', load, () => ['t1'])).toEqual({ n: 1 })
    expect(await a.get('t', 'k1', load, () => ['t1'])).toEqual({ n: 1 })
    await new Promise((resolve) => setTimeout(resolve, 50)) // the write-back is not awaited
    expect(await b.get('t', 'k1', load, () => ['t1'])).toEqual({ n: 1 })
    expect(loads).toBe(1)
    expect(await raw.get(`${prefix}c:t:k1`)).toBe('{"n":1}')
  })

  it('runs one load for 100 concurrent requests of a cold key', async () => {
    let loads = 0
    const load = async () => { loads++; await new Promise((resolve) => setTimeout(resolve, 20)); return 'v' }
    const values = await Promise.all(Array.from({ length: 100 }, () => a.get('t', 'cold', load, () => [])))
    expect(values).toEqual(Array(100).fill('v'))
    expect(loads).toBe(1)
  })

  it('batches misses and keeps hits', async () => {
    const asked: string[][] = []
    const loadMissing = async (keys: string[]) => { asked.push(keys); return keys.map((k) => `value-${k}`) }
    expect(await a.many('t', ['m1', 'm2'], loadMissing, () => [])).toEqual(['value-m1', 'value-m2'])
    expect(await a.many('t', ['m1', 'm2', 'm3'], loadMissing, () => [])).toEqual(['value-m1', 'value-m2', 'value-m3'])
    expect(asked).toEqual([['m1', 'm2'], ['m3']])
  })

  it('invalidates by tag in Redis at once and on the other instance within 100 ms', async () => {
    let version = 1
    const load = async () => ({ version })
    expect(await a.get('t', 'u:1', load, () => ['user:1'])).toEqual({ version: 1 })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await b.get('t', 'u:1', load, () => ['user:1'])).toEqual({ version: 1 })
    version = 2
    await a.invalidate(['user:1'])
    expect(await raw.get(`${prefix}c:t:u:1`)).toBeNull()
    expect(await a.get('t', 'u:1', load, () => ['user:1'])).toEqual({ version: 2 })
    // the message reaches the other instance (generous bound for a busy machine), then B is fresh
    const sent = Date.now()
    while (!received.some((r) => r.cache === 1 && r.tags.includes('user:1'))) {
      expect(Date.now() - sent).toBeLessThan(5000)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await b.get('t', 'u:1', load, () => ['user:1'])).toEqual({ version: 2 })
  })

  it('never writes back a value loaded before an invalidation of its tag', async () => {
    const stale = async () => {
      // the write that this load raced with: it commits and invalidates while we read
      await b.invalidate(['race'])
      return 'stale'
    }
    expect(await a.get('t', 'r:1', stale, () => ['race'])).toBe('stale')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await raw.get(`${prefix}c:t:r:1`)).toBeNull()
    // once the invalidation message reaches A, A's memory does not keep the stale value either
    while (!received.some((r) => r.cache === 0 && r.tags.includes('race'))) await new Promise((resolve) => setTimeout(resolve, 5))
    let loads = 0
    expect(await a.get('t', 'r:1', async () => { loads++; return 'fresh' }, () => ['race'])).toBe('fresh')
    expect(loads).toBe(1)
  })

  it('counts one hit or miss per key looked up', async () => {
    const before = { ...lookups }
    await a.get('t', 'count-1', async () => 1, () => [])
    await a.get('t', 'count-1', async () => 1, () => [])
    await a.many('t', ['count-1', 'count-2'], async (keys) => keys.map(() => 2), () => [])
    expect({ hit: lookups.hit - before.hit, miss: lookups.miss - before.miss }).toEqual({ hit: 2, miss: 2 })
  })
})

describe('two-level cache without Redis', () => {
  it('keeps entries in memory and invalidates them', async () => {
    const { noRedis } = await import('../../src/redis/breaker.js')
    const cache = await createTwoLevelCache({ ttlSeconds: 30, redis: null, prefix: 'x:', breaker: noRedis })
    let n = 0
    const load = async () => ++n
    expect(await cache.get('t', 'k', load, () => ['t'])).toBe(1)
    expect(await cache.get('t', 'k', load, () => ['t'])).toBe(1)
    await cache.invalidate(['t'])
    expect(await cache.get('t', 'k', load, () => ['t'])).toBe(2)
  })

  it('passes straight through with a TTL of 0', async () => {
    const { noRedis } = await import('../../src/redis/breaker.js')
    const cache = await createTwoLevelCache({ ttlSeconds: 0, redis: null, prefix: 'x:', breaker: noRedis })
    let n = 0
    await cache.get('t', 'k', async () => ++n, () => [])
    expect(await cache.get('t', 'k', async () => ++n, () => [])).toBe(2)
  })
})

// The staleness contract of list pages (docs/caching.md), on a list held in memory: after every
// write and its invalidation, every page read through the cache equals the list as it is, except
// past the stated bound (an insert left open while more than APPEND_WINDOW larger ids committed).
describe('list pages tagged by orderedList', () => {
  interface Row { id: string, name: string }
  async function setup (ttlSeconds = 30) {
    const { noRedis } = await import('../../src/redis/breaker.js')
    const cache = await createTwoLevelCache({ ttlSeconds, redis: null, prefix: 'x:', breaker: noRedis })
    const rows: Row[] = Array.from({ length: 95 }, (_, i) => ({ id: String(i + 1), name: `n${i + 1}` }))
    let loads = 0
    const truth = (limit: number, offset: number) => [...rows].sort((x, y) => Number(x.id) - Number(y.id)).slice(offset, offset + limit)
    const page = (limit: number, offset: number) => cache.get('list', `${limit}:${offset}`, async () => { loads++; return truth(limit, offset) },
      (page) => orderedList.pageTags('list', page.map((r) => r.id), limit, (id) => `row:${id}`))
    const pages = [[10, 0], [10, 40], [10, 80], [10, 90], [10, 100], [25, 75], [7, 91]] as const
    const stale = async () => {
      const out: string[] = []
      for (const [limit, offset] of pages) if (JSON.stringify(await page(limit, offset)) !== JSON.stringify(truth(limit, offset))) out.push(`${limit}:${offset}`)
      return out
    }
    return { cache, rows, page, truth, stale, loads: () => loads }
  }

  it('an insert drops the end of the list only; a rename drops the page holding the row; both read fresh', async () => {
    const { cache, rows, stale, loads } = await setup()
    expect(await stale()).toEqual([])
    const cold = loads()
    rows.push({ id: '96', name: 'n96' })
    await cache.invalidate(orderedList.inserted('list', '96'))
    expect(await stale()).toEqual([])
    // pages 10:0 and 10:40 stayed cached; the end pages (80, 90, 100, 75+25, 91+7) were reloaded
    expect(loads() - cold).toBeLessThanOrEqual(5)
    const before = loads()
    rows[44].name = 'renamed'
    await cache.invalidate(['row:45'])
    expect(await stale()).toEqual([])
    expect(loads() - before).toBe(1)
  })

  it('an insert that commits after larger ids is still seen, within APPEND_WINDOW ids', async () => {
    const { cache, rows, stale } = await setup()
    // ids 96..(96 + APPEND_WINDOW - 1) commit first and are read; 96 is taken by an open transaction
    for (let id = 97; id < 96 + APPEND_WINDOW; id++) {
      rows.push({ id: String(id), name: `n${id}` })
      await cache.invalidate(orderedList.inserted('list', String(id)))
      expect(await stale()).toEqual([])
    }
    rows.push({ id: '96', name: 'late' })
    await cache.invalidate(orderedList.inserted('list', '96'))
    expect(await stale()).toEqual([])
  })

  it('past APPEND_WINDOW, a late insert is missing from a full page until its TTL (the stated bound)', async () => {
    const { cache, rows, page, truth } = await setup(1)
    // ids 97..(96 + 2 x APPEND_WINDOW + 20) commit while 96 is still being inserted
    for (let id = 97; id <= 96 + 2 * APPEND_WINDOW + 20; id++) rows.push({ id: String(id), name: `n${id}` })
    await cache.invalidate(orderedList.inserted('list', String(96 + 2 * APPEND_WINDOW + 20)))
    const far = 96 + 2 * APPEND_WINDOW // a page ending more than APPEND_WINDOW ids after 96
    for (const offset of [90, far]) await page(10, offset)
    rows.push({ id: '96', name: 'late' })
    await cache.invalidate(orderedList.inserted('list', '96'))
    expect(await page(10, 90)).toEqual(truth(10, 90))
    expect(await page(10, far)).not.toEqual(truth(10, far))
    // the TTL (1 s here, +-10%) bounds it
    await new Promise((resolve) => setTimeout(resolve, 1200))
    expect(await page(10, far)).toEqual(truth(10, far))
  })
})
