// A two-level resolver cache: an in-process LRU (L1) in front of Redis (L2), with tag-based
// invalidation that reaches every instance through Redis pub/sub.
//
// Written here rather than taken from async-cache-dedupe or mercurius-cache: their storages are
// one level (memory or Redis), and the hot path needs both: L1 answers without a Redis round trip,
// L2 shares entries across instances and is never stale. The guarantees:
// - L2 is never stale: an invalidation stamps each tag with Redis's clock, and a value loaded
//   after an L2 miss is written back only if none of its tags was invalidated since that miss.
// - L1 is stale at most until the invalidation message arrives: a mutation's own instance drops
//   its entries before answering; a load that overlapped any invalidation is not kept in L1; and
//   while the subscriber is disconnected L1 is emptied and bypassed.
// - Stampede: concurrent loads of one key share one promise (one SQL statement); a lookup after an
//   invalidation never joins a load that began before it.
// - With read replicas (freshness): a reload never reads older data than the newest write that
//   invalidated anything. Each invalidation raises a floor (the write's WAL position, in Redis
//   with the tag stamps, else in process) and every load reads at or past it (src/db/routing.ts).
import { LRUCache } from 'lru-cache'
import type { Redis } from 'ioredis'
import type { RedisBreaker } from '../redis/breaker.js'
import { L2_GET, L2_INVALIDATE, L2_SET } from './scripts.js'

export interface CacheEvents {
  /** one per key looked up: a hit in memory, in Redis or on a load in flight, or a miss (loaded) */
  lookup (name: string, hit: boolean): void
  /** an invalidation message from another instance (or our own echo) was applied */
  remoteInvalidation? (tags: string[]): void
}

/** Read replicas (src/db/routing.ts): where a load may read, and where a write left the primary. */
export interface Freshness {
  /** runs a load whose reads must see every write up to floor (a WAL position; null = any) */
  loadAt<T> (floor: string | null, load: () => Promise<T>): Promise<T>
  /** the WAL position after the current request's writes */
  writeLsn (): Promise<string | null>
}

export interface TwoLevelOptions {
  ttlSeconds: number
  maxEntries?: number
  /** L2 and pub/sub; null: L1 only (one instance, no Redis) */
  redis: Redis | null
  breaker: RedisBreaker
  /** REDIS_KEY_PREFIX: the scripts name keys themselves, so ioredis's keyPrefix does not apply */
  prefix: string
  events?: CacheEvents
  onError?: (err: Error) => void
  freshness?: Freshness
}

export interface Cache {
  /**
   * The value of `name:key`, loading (and caching) it with load() on a miss; tags say what
   * invalidates it. A memory hit is returned synchronously (no promise on the hot path).
   */
  get<T> (name: string, key: string, load: () => Promise<T>, tags: (value: T) => string[]): T | Promise<T>
  /** batched get: loadMissing returns a value for every key it was given, in order */
  many<T> (name: string, keys: string[], loadMissing: (keys: string[]) => Promise<T[]>, tags: (value: T, key: string) => string[]): Promise<T[]>
  /** drops every entry carrying one of the tags, here, in Redis and (via pub/sub) on every instance */
  invalidate (tags: string[]): Promise<void>
  close (): Promise<void>
}

/**
 * Tags for the pages of a list read with LIMIT/OFFSET in the order of an ever-increasing numeric
 * id (a sequence), so that a write invalidates the pages it can change rather than the whole list:
 * - an insert (id N) changes the page N lands on and those after it. A page that is not full is
 *   the end of the list (`<list>:end`); a full page ending at id M changes only if N < M, which
 *   happens when N's transaction committed after a larger id's did. Full pages are tagged by the
 *   window of their last id (`<list>:upto:<M / APPEND_WINDOW>`), and an insert drops its own
 *   window and the next, so every full page ending within APPEND_WINDOW ids after N is dropped.
 *   A page ending further on (more than APPEND_WINDOW ids taken and committed while N's insert
 *   was still open) stays as it is until its TTL: that is the staleness bound (docs/caching.md);
 * - an update of row `id` (the order never changes: ids do not) drops only the page holding it,
 *   through the row's own tag (`rowTag(id)`), which every page carries for each of its rows;
 * - anything else (a delete shifts every later row) drops the whole list tag, which every page
 *   still carries.
 */
export const APPEND_WINDOW = 64

export const orderedList = {
  /** the tags of one page: `ids` are its rows' ids in order, `limit` the page size asked for */
  pageTags (list: string, ids: string[], limit: number, rowTag: (id: string) => string): string[] {
    const last = ids.length > 0 ? Number(ids[ids.length - 1]) : NaN
    // not full (the end of the list), or ids that are not numbers: dropped by every insert
    const where = ids.length < limit || !Number.isSafeInteger(last) ? `${list}:end` : `${list}:upto:${Math.floor(last / APPEND_WINDOW)}`
    return [list, where, ...ids.map(rowTag)]
  },
  /** what an insert of row `id` invalidates in `list` */
  inserted (list: string, id: string): string[] {
    const n = Number(id)
    if (!Number.isSafeInteger(n)) return [list]
    const window = Math.floor(n / APPEND_WINDOW)
    return [`${list}:end`, `${list}:upto:${window}`, `${list}:upto:${window + 1}`]
  }
}

interface Entry { value: unknown, tags: string[] }

export async function createTwoLevelCache (opts: TwoLevelOptions): Promise<Cache> {
  const ttlMs = opts.ttlSeconds * 1000
  // jitter: keys written together do not expire together
  const jittered = () => Math.round(ttlMs * (0.9 + Math.random() * 0.2))
  const byTag = new Map<string, Set<string>>()
  const l1 = new LRUCache<string, Entry>({
    max: opts.maxEntries ?? 10_000,
    ttlAutopurge: false,
    dispose: (entry, key) => {
      for (const tag of entry.tags) {
        const keys = byTag.get(tag)
        if (keys) { keys.delete(key); if (keys.size === 0) byTag.delete(tag) }
      }
    }
  })
  const inflight = new Map<string, { epoch: number, value: Promise<unknown> }>()
  let invalidations = 0
  // the freshness floor without Redis: the newest invalidating write of this process
  let floor: string | null = null
  const freshness = opts.freshness
  // loads whose floor was not known: served, never kept in L1
  const unsure = new WeakSet<unknown[]>()
  const redis = opts.redis
  const channel = `${opts.prefix}cache:invalidate`
  const full = (key: string) => `${opts.prefix}c:${key}`
  if (redis) {
    redis.defineCommand('cacheGet', { lua: L2_GET, numberOfKeys: 0 })
    redis.defineCommand('cacheSet', { lua: L2_SET, numberOfKeys: 0 })
    redis.defineCommand('cacheInvalidate', { lua: L2_INVALIDATE, numberOfKeys: 0 })
  }
  // Invalidations that could not reach Redis (breaker open) are retried when it is back, so L2
  // does not keep serving what was changed during the outage (bounded; past it, entries age out by TTL).
  const pending = new Set<string>()
  async function sendInvalidation (tags: string[], lsn: string | null = null) {
    const args = [opts.prefix, channel, JSON.stringify(tags), ...(lsn ? [lsn] : [])]
    await opts.breaker.run((r) => (r as CacheRedis).cacheInvalidate(...args), () => {
      for (const tag of tags) if (pending.size < 10_000) pending.add(tag)
      return null
    })
  }
  async function flushPending () {
    if (pending.size === 0) return
    const tags = [...pending]
    pending.clear()
    await sendInvalidation(tags)
  }

  // L1 is trusted only while invalidation messages can reach us (or there is no Redis at all).
  let l1Live = redis === null
  // no command timeout on the subscriber: it only waits for messages (ioredis treats 0 as "time out at once")
  const subscriber = redis ? redis.duplicate({ keyPrefix: '', enableOfflineQueue: true, lazyConnect: true, commandTimeout: undefined, maxRetriesPerRequest: null }) : null
  if (subscriber) {
    subscriber.on('message', (_channel: string, message: string) => {
      const tags = JSON.parse(message) as string[]
      dropLocal(tags)
      opts.events?.remoteInvalidation?.(tags)
    })
    subscriber.on('ready', () => { l1.clear(); l1Live = true; void flushPending() })
    subscriber.on('close', () => { l1Live = false; l1.clear() })
    subscriber.on('error', (err: Error) => opts.onError?.(err))
    await subscriber.connect().then(() => subscriber.subscribe(channel)).catch((err: Error) => opts.onError?.(err))
  }

  function dropLocal (tags: string[]) {
    invalidations++
    for (const tag of tags) {
      const keys = byTag.get(tag)
      if (!keys) continue
      for (const key of [...keys]) l1.delete(key)
    }
  }

  function keepLocal (key: string, value: unknown, tags: string[], epoch: number) {
    if (!l1Live || epoch !== invalidations) return
    l1.set(key, { value, tags }, { ttl: jittered() })
    for (const tag of tags) {
      const keys = byTag.get(tag) ?? byTag.set(tag, new Set()).get(tag)!
      keys.add(key)
    }
  }

  async function l2Load<T> (name: string, keys: string[], load: (missing: string[]) => Promise<T[]>, tags: (v: T, key: string) => string[]): Promise<T[]> {
    const found = redis
      ? await opts.breaker.run((r) => (r as CacheRedis).cacheGet(`${opts.prefix}lsn:floor`, ...keys.map((k) => full(`${name}:${k}`))), () => null)
      : null
    const values = new Array<T>(keys.length)
    const missing: number[] = []
    keys.forEach((_, i) => {
      const raw = found?.[i]
      if (typeof raw === 'string') values[i] = JSON.parse(raw) as T
      else missing.push(i)
      opts.events?.lookup(name, typeof raw === 'string')
    })
    if (missing.length === 0) return values
    const wanted = missing.map((i) => keys[i])
    // the floor: Redis's, with the lookup (no other instance's write is missed), or this process's
    // own when higher (an invalidation that has not reached Redis yet). When Redis did not answer,
    // only this process's writes are known: the value is served, not kept (unsure)
    const shared = found ? (found[keys.length + 1] || null) : null
    const at = shared !== null && (floor === null || shared > floor) ? shared : floor
    if (freshness && redis && !found) unsure.add(values)
    const loaded = freshness ? await freshness.loadAt(at, () => load(wanted)) : await load(wanted)
    const since = found?.[keys.length]
    const writes: string[] = []
    missing.forEach((index, j) => {
      values[index] = loaded[j]
      if (since !== undefined) writes.push(full(`${name}:${keys[index]}`), JSON.stringify(loaded[j]), JSON.stringify(tags(loaded[j], keys[index])))
    })
    if (writes.length > 0) {
      void opts.breaker.run((r) => (r as CacheRedis).cacheSet(opts.prefix, since as string, String(Math.ceil(jittered() / 1000)), ...writes), () => null)
    }
    return values
  }

  function memory (name: string, key: string): Entry | undefined {
    return l1Live ? l1.get(`${name}:${key}`) : undefined
  }

  async function many<T> (name: string, keys: string[], loadMissing: (keys: string[]) => Promise<T[]>, tags: (v: T, key: string) => string[]): Promise<T[]> {
    if (ttlMs === 0) return loadMissing(keys)
    const out = new Array<T>(keys.length)
    const waits: Array<Promise<void>> = []
    const todo: string[] = []
    const todoIndex: number[] = []
    keys.forEach((key, i) => {
      const hit = memory(name, key)
      if (hit) { opts.events?.lookup(name, true); out[i] = hit.value as T; return }
      // a load begun before the latest invalidation may hold what it made stale: not joined
      const pending = inflight.get(`${name}:${key}`)
      if (pending && pending.epoch === invalidations) { opts.events?.lookup(name, true); waits.push(pending.value.then((v) => { out[i] = v as T })); return }
      todo.push(key)
      todoIndex.push(i)
    })
    if (todo.length > 0) {
      const epoch = invalidations
      const batch = l2Load(name, todo, loadMissing, tags)
      todo.forEach((key, j) => {
        const id = `${name}:${key}`
        const mine = { epoch, value: batch.then((values) => values[j]) }
        // a failed load fails its waiters below; one nobody joined must not be an unhandled rejection
        mine.value.catch(() => {})
        inflight.set(id, mine)
        waits.push(batch.then((values) => {
          out[todoIndex[j]] = values[j]
          keepLocal(id, values[j], tags(values[j], key), unsure.has(values) ? -1 : epoch)
        }).finally(() => { if (inflight.get(id) === mine) inflight.delete(id) }))
      })
    }
    await Promise.all(waits)
    return out
  }

  return {
    many,
    get<T> (name: string, key: string, load: () => Promise<T>, tags: (value: T) => string[]): T | Promise<T> {
      const hit = ttlMs === 0 ? undefined : memory(name, key)
      if (hit) { opts.events?.lookup(name, true); return hit.value as T }
      return many(name, [key], async () => [await load()], (v) => tags(v)).then((values) => values[0])
    },
    async invalidate (tags) {
      if (tags.length === 0) return
      // the write's position first: no reload that starts after this may read before it
      const lsn = freshness ? await freshness.writeLsn().catch(() => null) : null
      if (lsn && (floor === null || lsn > floor)) floor = lsn
      dropLocal(tags)
      if (!redis) return
      await sendInvalidation(tags, lsn)
      // loads begun before Redis had the new floor are not joined by later lookups
      if (freshness) invalidations++
    },
    async close () {
      subscriber?.disconnect()
      l1.clear()
    }
  }
}

/** the client once defineCommand (above) has added the cache's scripts */
type CacheRedis = Redis & {
  cacheGet (...keys: string[]): Promise<Array<string | null>>
  cacheSet (...args: string[]): Promise<number>
  cacheInvalidate (...args: string[]): Promise<number>
}
