// Rate limits per client per window (RATE_LIMIT_WINDOW_MS): RATE_LIMIT_MAX requests, counted by
// @fastify/rate-limit (https://github.com/fastify/fastify-rate-limit), and a cost budget of
// RATE_LIMIT_POINTS complexity points, charged by the GraphQL cost hook (src/graphql/limits).
// The client is the JWT subject when authenticated, else the IP (an IPv6 /64 counts as one).
// Both are shared through Redis with a per-instance in-memory fallback (src/rate-limit/counter.ts).
// Registered after auth, so the subject is known; a request with a bad token is counted by IP
// before it is refused. /health, /ready, /metrics and GraphiQL are never limited: their routes say
// `config: { rateLimit: false }` (no allowList, which would cost an await on every request).
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import { LRUCache } from 'lru-cache'
import type { Config } from '../config.js'
import { gqlError } from '../error-codes.js'
import type { ChargeCost } from '../graphql/limits/index.js'
import { createCounter, type Counter } from '../rate-limit/counter.js'
import { securityEvent } from '../security/events.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** charges a GraphQL operation's cost to the caller's budget; null when RATE_LIMIT_POINTS is 0 */
    chargeCost: ChargeCost | null
  }
}

export interface RateLimitOptions { config: Config }

function clientKey (request: FastifyRequest): string {
  return request.caller ? `u:${request.caller.sub}` : `ip:${normalizeIP(request.ip)}`
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

// the adapter @fastify/rate-limit expects (incr with a callback) around our counter
function storeFor (counter: Counter) {
  return class CounterStore {
    incr (key: string, cb: (err: Error | null, res?: { current: number, ttl: number }) => void, windowMs: number, max: number) {
      const hit = counter(`rl:req:${key}`, 1, max, windowMs, false)
      // most hits are answered at once (the lease): no promise to wait for
      if (hit instanceof Promise) hit.then((h) => cb(null, h), cb)
      else cb(null, hit)
    }

    child () { return this }
  }
}

function budget (counter: Counter, points: number, windowMs: number): ChargeCost {
  return async function chargeCost (reply: FastifyReply, cost: number) {
    const hit = await counter(`rl:pts:${clientKey(reply.request)}`, cost, points, windowMs, true)
    const remaining = Math.max(0, points - hit.current)
    reply.header('x-ratelimit-cost', cost).header('x-ratelimit-points-limit', points).header('x-ratelimit-points-remaining', remaining)
    if (hit.allowed) return
    const retryAfter = seconds(hit.ttl)
    reply.header('retry-after', retryAfter)
    securityEvent(reply.request, 'budget_exhausted', { cost, remaining })
    throw gqlError('RATE_LIMITED', `Cost budget spent: ${cost} points asked, ${remaining} left`, { cost, remaining, retryAfter })
  }
}

export default fp<RateLimitOptions>(async function rateLimitPlugin (app, { config }) {
  const windowMs = config.RATE_LIMIT_WINDOW_MS
  const counter = createCounter({
    redis: app.redis,
    breaker: app.redisBreaker,
    // logged on the change only, never per request
    onFallback: (fallback, err) => fallback
      ? app.log.warn({ err }, 'rate limits fall back to per-instance memory')
      : app.log.info('rate limits shared through redis again')
  })
  app.decorate('chargeCost', config.RATE_LIMIT_POINTS > 0 ? budget(counter, config.RATE_LIMIT_POINTS, windowMs) : null)
  if (config.RATE_LIMIT_MAX === 0) return

  // one rate_limited event per client per window and instance, not one per refused request
  const reported = new LRUCache<string, true>({ max: 10_000, ttl: windowMs })
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    max: config.RATE_LIMIT_MAX,
    timeWindow: windowMs,
    store: storeFor(counter),
    keyGenerator: clientKey,
    onExceeded: (request, key) => {
      if (reported.has(key)) return
      reported.set(key, true)
      securityEvent(request, 'rate_limited', { limit: config.RATE_LIMIT_MAX, windowMs })
    },
    // thrown: the GraphQL route's error handler gives it the GraphQL shape and status 429
    errorResponseBuilder: (_request, context) => gqlError('RATE_LIMITED', undefined, { retryAfter: seconds(context.ttl) })
  })
}, { name: 'rate-limit', dependencies: ['redis', 'auth'], decorators: { fastify: ['redis', 'redisBreaker'], request: ['caller'] } })
