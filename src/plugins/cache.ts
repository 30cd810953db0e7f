// The resolver cache (src/cache/two-level.ts): in-process memory in front of Redis when REDIS_URL
// is set, memory alone otherwise; CACHE_TTL_SECONDS=0 turns it off. Lookups are counted in
// cache_requests_total{cache,result}.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createTwoLevelCache, type Cache } from '../cache/two-level.js'
import { child } from '../observability/metrics.js'

declare module 'fastify' {
  interface FastifyInstance { cache: Cache }
}

export interface CacheOptions { config: Config }

export default fp<CacheOptions>(async function cachePlugin (app, { config }) {
  const count = (name: string, hit: boolean) => child(app.metrics.cacheRequests, name, hit ? 'hit' : 'miss').inc()
  const cache = await createTwoLevelCache({
    ttlSeconds: config.CACHE_TTL_SECONDS,
    maxEntries: config.CACHE_MAX_ENTRIES,
    redis: app.redis,
    breaker: app.redisBreaker,
    prefix: config.REDIS_KEY_PREFIX,
    events: { lookup: count },
    onError: (err) => app.log.warn({ err }, 'cache invalidation channel'),
    // with read replicas, a reload never reads older data than the write that invalidated it
    ...(app.readReplicas && { freshness: app.readReplicas })
  })
  app.decorate('cache', cache)
  app.addHook('onClose', async () => { await cache.close() })
}, { name: 'cache', dependencies: ['metrics', 'db', 'redis'], decorators: { fastify: ['metrics', 'db', 'readReplicas', 'redis', 'redisBreaker'] } })
