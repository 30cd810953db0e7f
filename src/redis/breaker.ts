// A circuit breaker in front of Redis: after `failures` consecutive failed calls (timeouts on a
// hung or overloaded Redis) it opens and every call takes its fallback at once, so a dead Redis
// does not cost REDIS_COMMAND_TIMEOUT_MS on every request. While open, a PING probes Redis every
// `resetMs` in the background (half-open), never a client's request: success closes the breaker.
// The connection's own events move it too: a closed connection opens it at once, a
// (re)connected one closes it.
//
// Written here rather than taken from opossum: opossum emits several events, keeps rolling
// statistics and arms a timer on every call, which is measurable on a path that runs once per
// request (rate limit, cache), and it probes with a live request; this needs two counters and
// one timer while open. The per-command timeout is ioredis's own (commandTimeout,
// REDIS_COMMAND_TIMEOUT_MS): far shorter than a request's deadline, so run() does not bound it again.
import type { Redis } from 'ioredis'

export type BreakerState = 'closed' | 'open' | 'half-open'

export interface RedisBreaker {
  /** true while calls skip Redis (also when there is no Redis at all) */
  isOpen (): boolean
  readonly state: BreakerState
  /** Calls fn(redis) unless the breaker is open; on failure (or when open) returns fallback(err). */
  run<T> (fn: (redis: Redis) => Promise<T>, fallback: (err?: Error) => T | Promise<T>): Promise<T>
}

export interface BreakerOptions {
  failures: number
  resetMs: number
  commandTimeoutMs: number
  onStateChange?: (state: BreakerState) => void
}

class BreakerOpenError extends Error {
  constructor () { super('redis circuit open') }
}

// one instance: an open breaker answers every call, and a stack trace per call would cost more
// than the call it saves
const OPEN = new BreakerOpenError()

/** A breaker that is always open: Redis is not configured. */
export const noRedis: RedisBreaker = {
  isOpen: () => true,
  state: 'open',
  run: async (_fn, fallback) => fallback(OPEN)
}

export function createBreaker (redis: Redis, opts: BreakerOptions): RedisBreaker {
  let state: BreakerState = redis.status === 'ready' ? 'closed' : 'open'
  let failures = 0
  let probeTimer: NodeJS.Timeout | undefined

  function move (next: BreakerState) {
    if (next === state) return
    state = next
    if (next === 'closed') failures = 0
    opts.onStateChange?.(next)
  }
  redis.on('ready', () => {
    clearTimeout(probeTimer)
    probeTimer = undefined
    move('closed')
  })
  // disconnected: commands would fail at once anyway; the next 'ready' closes the breaker
  redis.on('close', () => move('open'))

  // connected but failing (hung, overloaded): PING it every resetMs until it answers
  function scheduleProbe () {
    if (probeTimer) return
    probeTimer = setTimeout(probe, opts.resetMs)
    probeTimer.unref()
  }
  async function probe () {
    probeTimer = undefined
    if (state === 'closed' || redis.status !== 'ready') return
    move('half-open')
    try {
      await redis.ping()
      move('closed')
    } catch {
      move('open')
      scheduleProbe()
    }
  }

  function failed () {
    if (state === 'closed' && ++failures >= opts.failures) {
      move('open')
      scheduleProbe()
    }
  }

  async function run<T> (fn: (redis: Redis) => Promise<T>, fallback: (err?: Error) => T | Promise<T>): Promise<T> {
    if (state !== 'closed') return fallback(OPEN)
    let result: T
    try {
      result = await fn(redis)
    } catch (err) {
      failed()
      return fallback(err as Error)
    }
    failures = 0
    return result
  }

  return {
    isOpen: () => state !== 'closed',
    get state () { return state },
    run
  }
}
