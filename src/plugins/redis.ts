// Redis (ioredis) when REDIS_URL is set, else null (cache and rate limits stay in-process).
// Commands never queue while disconnected and time out quickly: a Redis outage degrades the
// service (cache bypassed, per-instance rate limits), it never hangs a request.
import { readFileSync } from 'node:fs'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { createBreaker, noRedis, type RedisBreaker } from '../redis/breaker.js'

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis | null
    /** every Redis call on the request path goes through this (src/redis/breaker.ts); always open without Redis */
    redisBreaker: RedisBreaker
  }
}

export interface RedisOptions { config: Config }

export interface RedisClientOptions {
  url: string
  commandTimeoutMs: number
  keyPrefix: string
  name?: string
  /** CA (PEM) for a rediss:// server whose certificate a public CA did not sign */
  tlsCa?: string
}

export function createRedis ({ url, commandTimeoutMs, keyPrefix, name = 'bastion', tlsCa }: RedisClientOptions) {
  return new Redis(url, {
    // rediss:// turns TLS on (verified against the system CAs); a CA file adds the server's own
    ...(tlsCa ? { tls: { ca: tlsCa } } : {}),
    connectionName: name,
    // every key this client touches (pub/sub channels excepted: prefix those by hand)
    keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    // reconnect forever, backing off to 2 s
    retryStrategy: (times) => Math.min(times * 100, 2000)
  })
}

export default fp<RedisOptions>(async function redisPlugin (app, { config }) {
  if (!config.REDIS_URL) {
    app.decorate('redis', null)
    app.decorate('redisBreaker', noRedis)
    return
  }
  const redis = createRedis({
    url: config.REDIS_URL,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    keyPrefix: config.REDIS_KEY_PREFIX,
    tlsCa: config.REDIS_TLS_CA_FILE ? readFileSync(config.REDIS_TLS_CA_FILE, 'utf8') : undefined
  })
  let wasReady = false
  redis.on('error', (err) => app.log.warn({ err }, 'redis error'))
  redis.on('ready', () => { if (wasReady) app.log.info('redis reconnected'); wasReady = true })
  app.decorate('redis', redis)
  app.decorate('redisBreaker', createBreaker(redis, {
    failures: config.REDIS_BREAKER_FAILURES,
    resetMs: config.REDIS_BREAKER_RESET_MS,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    onStateChange: (state) => app.log[state === 'open' ? 'warn' : 'info']({ state }, 'redis circuit breaker')
  }))
  app.addHook('onClose', async () => { redis.disconnect() })
  // Start degraded rather than refuse to start: readiness reports it.
  await redis.connect().catch((err: Error) => app.log.warn({ err }, 'redis unavailable at start-up'))
}, { name: 'redis' })
