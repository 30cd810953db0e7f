// Fixed-window counters for the request limit and the cost budget. With Redis they are shared by
// every instance (one Lua script per check: read, add, expire, answer); whenever a Redis call
// fails or the circuit breaker is open (src/redis/breaker.ts) the same check runs on a
// per-instance in-memory counter, so a Redis outage weakens the limit, never removes it.
import type { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import type { RedisBreaker } from '../redis/breaker.js'

export interface Hit {
  /** the count in this window after the hit (unchanged when a conditional hit was refused) */
  current: number
  /** milliseconds until the window resets */
  ttl: number
  allowed: boolean
}

/**
 * Adds `amount` to `key`'s window. Unconditional (the request limit): always counts, allowed
 * while the count stays within `max`. Conditional (the cost budget): adds only if it fits.
 */
export type Counter = (key: string, amount: number, max: number, windowMs: number, conditional: boolean) => Promise<Hit>

const LUA = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount, max, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[4] == '1' and current + amount > max then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then ttl = window end
  return {current, ttl, 0}
end
current = redis.call('INCRBY', KEYS[1], amount)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
  ttl = window
end
if current <= max then return {current, ttl, 1} end
return {current, ttl, 0}
`

type WithCommand = Redis & { bastionRateHit (key: string, amount: number, max: number, windowMs: number, conditional: string): Promise<[number, number, number]> }

export function memoryCounter (maxKeys = 50_000) {
  const windows = new LRUCache<string, { count: number, resetAt: number }>({ max: maxKeys })
  return function hit (key: string, amount: number, max: number, windowMs: number, conditional: boolean): Hit {
    const now = Date.now()
    let w = windows.get(key)
    if (!w || w.resetAt <= now) windows.set(key, w = { count: 0, resetAt: now + windowMs })
    const ttl = w.resetAt - now
    if (conditional && w.count + amount > max) return { current: w.count, ttl, allowed: false }
    w.count += amount
    return { current: w.count, ttl, allowed: w.count <= max }
  }
}

export interface CounterOptions {
  redis: Redis | null
  breaker: RedisBreaker
  /** called when checks move to memory (with the cause) and back to Redis */
  onFallback?: (fallback: boolean, err?: Error) => void
}

export function createCounter ({ redis, breaker, onFallback }: CounterOptions): Counter {
  const memory = memoryCounter()
  if (!redis) return async (...args) => memory(...args)
  const client = redis as WithCommand
  // evalsha with the script's hash; ioredis loads it again after a Redis restart (NOSCRIPT)
  if (typeof client.bastionRateHit !== 'function') client.defineCommand('bastionRateHit', { numberOfKeys: 1, lua: LUA })
  let degraded = false
  return async function hit (key, amount, max, windowMs, conditional) {
    return breaker.run(async (r) => {
      const [current, ttl, allowed] = await (r as WithCommand).bastionRateHit(key, amount, max, windowMs, conditional ? '1' : '0')
      if (degraded) { degraded = false; onFallback?.(false) }
      return { current, ttl, allowed: allowed === 1 }
    }, (err) => {
      if (!degraded) { degraded = true; onFallback?.(true, err) }
      return memory(key, amount, max, windowMs, conditional)
    })
  }
}
