// Fixed-window counters for the request limit and the cost budget, shared by every instance
// through Redis (one Lua script per call), with a per-instance in-memory counter whenever a Redis
// call fails or the circuit breaker is open (src/redis/breaker.ts): an outage weakens the limit,
// never removes it. The fallback starts from the window total Redis last reported, and what it
// lets through is added to Redis with the key's next call there.
//
// Leases keep Redis off most requests of a busy client: with each call an instance reserves, on
// top of what it needs, a lease it spends locally for up to LEASE_MS, then hands back what is left
// with its next call. A lease is at most 1/LEASE_DIVISOR of what is left in the window and at most
// twice what the instance used of the previous one (LEASE_MIN hits to start): sized to the client's
// demand, so a call whose answer is lost (a command timeout after Redis ran it) strands little.
// Reservations count as used, so the limit is never exceeded; near the limit (less than
// LEASE_DIVISOR left) nothing extra is reserved and every hit goes to Redis, so the last units are
// shared exactly. A client that leaves an instance holding a lease may be refused slightly early,
// for at most LEASE_MS. A busy client reaches Redis every LEASE_MS, so an outage is noticed (and
// the breaker opens) within that. A client over its request limit is refused locally until the
// window resets. One Redis call per key at a time on each instance: concurrent hits of a key wait
// for the call in flight, then spend the lease it brought (or make the next call); each concurrent
// first hit used to reserve its own share and overwrite the previous lease, never handing it back.
// Hand-written: the rate-limit stores on npm make one Redis call per request.
// A hit its lease covers (or, without Redis, the memory counter) is answered synchronously: no
// promise per request on the common path; a Redis call, a wait for one, or the fallback behind an
// open breaker returns a promise.
import type { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import type { RedisBreaker } from '../redis/breaker.js'

export interface Hit {
  /** what is used in this window as this instance sees it (unchanged when a conditional hit was refused) */
  current: number
  /** milliseconds until the window resets */
  ttl: number
  allowed: boolean
}

/**
 * Adds `amount` to `key`'s window. Unconditional (the request limit): always counts, allowed
 * while the count stays within `max`. Conditional (the cost budget): adds only if it fits.
 */
export type Counter = (key: string, amount: number, max: number, windowMs: number, conditional: boolean) => Hit | Promise<Hit>

export const LEASE_DIVISOR = 16
export const LEASE_MS = 1000
export const LEASE_MIN = 32

// ARGV: amount still needed (amount minus this instance's unused lease: negative when it hands
// units back), max, window, conditional, divisor, largest lease, and the debt (units this instance
// let through from memory while Redis did not answer: counted whatever the condition says).
// Returns the window's total, its ttl, allowed (1/0) and the extra units leased.
const LUA = `
local current
if tonumber(ARGV[7]) > 0 then
  current = redis.call('INCRBY', KEYS[1], ARGV[7])
  if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
else
  current = tonumber(redis.call('GET', KEYS[1]) or '0')
end
local need, max, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
-- units handed back to a window that has expired meanwhile are gone with it
if current + need < 0 then need = -current end
local extra, allowed = 0, 1
if current + need > max then
  allowed = 0
  if ARGV[4] == '1' then
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl < 0 then ttl = window end
    return {current, ttl, 0, 0}
  end
else
  extra = math.min(math.floor((max - current - need) / tonumber(ARGV[5])), tonumber(ARGV[6]))
end
current = redis.call('INCRBY', KEYS[1], need + extra)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
  ttl = window
end
return {current, ttl, allowed, extra}
`

type WithCommand = Redis & { bastionRateLease (key: string, need: number, max: number, windowMs: number, conditional: string, divisor: number, cap: number, debt: number): Promise<[number, number, number, number]> }

/** what Redis last said about a key's window: the fallback starts from it, not from zero */
interface Known { count: number, resetAt: number }

function memoryCounter (maxKeys = 50_000) {
  const windows = new LRUCache<string, Known>({ max: maxKeys })
  return function hit (key: string, amount: number, max: number, windowMs: number, conditional: boolean, known?: Known): Hit {
    const now = Date.now()
    let w = windows.get(key)
    if (!w || w.resetAt <= now) windows.set(key, w = { count: 0, resetAt: now + windowMs })
    // the window Redis last reported is still running: what every instance had used by then
    // counts here too, so an outage lets through at most what was left, not a whole new limit
    if (known && known.resetAt > now && known.count > w.count) {
      w.count = known.count
      w.resetAt = known.resetAt
    }
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

interface Lease {
  /** reserved in Redis, not used yet */
  units: number
  /** spent since the last call (with that call's own amount): sizes the next lease */
  used: number
  /** the window's total in Redis at the last call */
  total: number
  resetAt: number
  /** after this the lease is handed back with the next hit */
  refreshAt: number
  /** the request limit is spent until resetAt */
  spent: boolean
}

/** the window total Redis last reported, less this instance's unspent lease (`unspent`), which it may still use */
function knownOf (lease: Lease | undefined, unspent: number): Known | undefined {
  return lease ? { count: lease.total - lease.units - unspent, resetAt: lease.resetAt } : undefined
}

export function createCounter ({ redis, breaker, onFallback }: CounterOptions): Counter {
  const memory = memoryCounter()
  if (!redis) return memory
  const client = redis as WithCommand
  // evalsha with the script's hash; ioredis loads it again after a Redis restart (NOSCRIPT)
  if (typeof client.bastionRateLease !== 'function') client.defineCommand('bastionRateLease', { numberOfKeys: 1, lua: LUA })
  const leases = new LRUCache<string, Lease>({ max: 50_000 })
  // a (re)connected Redis may be a restarted one that forgot the windows: start from it again
  redis.on('ready', () => leases.clear())
  let degraded = false

  // key -> the Redis call in flight for it; resolves to false when Redis did not answer
  const inflight = new Map<string, Promise<boolean>>()
  // units this instance counted in memory while Redis did not answer, added to the key's next
  // call: the other instances then see what it let through meanwhile, rather than a fresh window
  const owed = new LRUCache<string, Known>({ max: 50_000 })
  function owe (key: string, units: number, resetAt: number) {
    const o = owed.get(key)
    if (o && o.resetAt > Date.now()) o.count += units
    else owed.set(key, { count: units, resetAt })
  }
  function fallback (key: string, amount: number, max: number, windowMs: number, conditional: boolean, known: Known | undefined): Hit {
    const hit = memory(key, amount, max, windowMs, conditional, known)
    // a refused conditional hit added nothing; an unconditional one counts either way
    if (!conditional || hit.allowed) owe(key, amount, Date.now() + hit.ttl)
    return hit
  }

  // wait for the call in flight (another may start before this one resumes: wait again)
  async function afterCall (key: string, amount: number, max: number, windowMs: number, conditional: boolean): Promise<Hit> {
    for (let pending = inflight.get(key); pending; pending = inflight.get(key)) {
      // that call took the fallback: so does this hit, rather than queue on a failing Redis
      if (!await pending) return fallback(key, amount, max, windowMs, conditional, knownOf(leases.get(key), 0))
    }
    return hit(key, amount, max, windowMs, conditional)
  }

  function hit (key: string, amount: number, max: number, windowMs: number, conditional: boolean): Hit | Promise<Hit> {
    if (inflight.has(key)) return afterCall(key, amount, max, windowMs, conditional)
    const now = Date.now()
    let lease = leases.get(key)
    if (lease && lease.resetAt <= now) lease = undefined
    if (lease?.spent) return { current: lease.total, ttl: lease.resetAt - now, allowed: false }
    if (lease && now < lease.refreshAt && lease.units >= amount) {
      lease.units -= amount
      lease.used += amount
      return { current: lease.total - lease.units, ttl: lease.resetAt - now, allowed: true }
    }
    return call(key, amount, max, windowMs, conditional, lease)
  }

  // the Redis call (synchronous up to its first await: the key is in flight before hit returns)
  async function call (key: string, amount: number, max: number, windowMs: number, conditional: boolean, lease: Lease | undefined): Promise<Hit> {
    // what is left of the lease goes into this call (handed back), and no other hit spends it
    const credit = lease?.units ?? 0
    if (lease) lease.units = 0
    const cap = Math.max(LEASE_MIN * amount, 2 * ((lease?.used ?? 0) + amount))
    // what was counted in memory during an outage goes with this call (a debt of an ended window is dropped)
    const o = owed.get(key)
    const debt = o && o.resetAt > Date.now() ? o.count : 0
    if (o) owed.delete(key)
    let answered = false
    let settle!: (ok: boolean) => void
    inflight.set(key, new Promise((resolve) => { settle = resolve }))
    try {
      return await breaker.run(async (r) => {
        const [total, ttl, allowed, extra] = await (r as WithCommand).bastionRateLease(key, amount - credit, max, windowMs, conditional ? '1' : '0', LEASE_DIVISOR, cap, debt)
        answered = true
        if (degraded) { degraded = false; onFallback?.(false) }
        const resetAt = Date.now() + ttl
        if (allowed === 1) {
          leases.set(key, { units: extra, used: amount, total, resetAt, refreshAt: Math.min(resetAt, Date.now() + LEASE_MS), spent: false })
          return { current: total - extra, ttl, allowed: true }
        }
        // a refused conditional hit added nothing (but the debt): the credit is still this instance's to spend
        if (conditional && lease && credit > 0) lease.units = credit
        if (!conditional) leases.set(key, { units: 0, used: 0, total, resetAt, refreshAt: resetAt, spent: true })
        return { current: total - credit, ttl, allowed: false }
      }, (err) => {
        if (!degraded) { degraded = true; onFallback?.(true, err) }
        if (debt > 0) owe(key, debt, o!.resetAt)
        return fallback(key, amount, max, windowMs, conditional, knownOf(lease, credit))
      })
    } finally {
      inflight.delete(key)
      settle(answered)
    }
  }

  return hit
}
