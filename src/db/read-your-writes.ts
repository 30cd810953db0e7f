// Read-your-writes: after a caller's write, that caller's reads never see older data. Each write
// records its commit LSN for its caller (the JWT subject); a replica serves that caller only once
// it has replayed past that LSN, otherwise the primary does (src/db/routing.ts). The LSNs are
// shared by every instance through Redis (REDIS_KEY_PREFIX + rw:<hash of the subject>, kept
// RECORD_TTL_MS) and kept in process too. A read that cannot ask Redis treats the caller's LSN as
// unknown: the primary serves it. A record is awaited before the write's response leaves, on a
// connection of its own with a patient timeout (RECORD_TIMEOUT_MS, not the request path's short
// one); one that still fails is retried every second until Redis takes it.
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import type { RedisBreaker } from '../redis/breaker.js'
import { maxLsn, parseLsn, type Lsn } from './lsn.js'

/** Far longer than a healthy replica can lag (REPLICA_MAX_LAG_MS): past it, every replica in rotation has the write. */
const RECORD_TTL_MS = 5 * 60_000
const RECORD_TIMEOUT_MS = 1000

// keeps the larger LSN (two instances may record one caller's writes out of order)
const RECORD_MAX = `
local cur = redis.call('GET', KEYS[1])
if not cur or cur < ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`

export interface WriteLog {
  /** what a server must have replayed to serve this caller; null: anything; unknown: only the primary */
  needed (sub: string): Promise<Lsn | null | 'unknown'>
  record (sub: string, lsn: Lsn): Promise<void>
  close (): Promise<void>
}

export interface WriteLogOptions {
  redis: Redis | null
  breaker: RedisBreaker
  maxCallers?: number
  /** a record Redis did not take (it is retried) */
  onRecordFailed?: (err: Error) => void
}

type Recorder = Redis & { rywRecord (key: string, lsn: string, ttl: string): Promise<number> }

// the subject is the client's identity: hashed, so a key's length and content are bounded
const keyOf = (sub: string) => `rw:${createHash('sha256').update(sub).digest('base64url')}`

export function createWriteLog ({ redis, breaker, maxCallers = 100_000, onRecordFailed }: WriteLogOptions): WriteLog {
  const local = new LRUCache<string, Lsn>({ max: maxCallers, ttl: RECORD_TTL_MS })
  // the same server and key prefix; only the timeout differs
  const recorder = redis?.duplicate({ commandTimeout: RECORD_TIMEOUT_MS, lazyConnect: true }) as Recorder | undefined
  recorder?.defineCommand('rywRecord', { lua: RECORD_MAX, numberOfKeys: 1 })
  recorder?.on('error', () => {})
  const connected = recorder?.connect().catch(() => {})
  const pending = new Map<string, Lsn>()
  // only a Redis record can fail and wait in pending: without Redis there is nothing to retry
  const retry = recorder && setInterval(() => { if (pending.size > 0 && !breaker.isOpen()) void flush() }, 1000)
  retry?.unref()

  async function send (key: string, lsn: Lsn) {
    try {
      await recorder!.rywRecord(key, lsn, String(RECORD_TTL_MS))
      if (pending.get(key) === lsn) pending.delete(key)
    } catch (err) {
      if (pending.size < maxCallers) pending.set(key, maxLsn(pending.get(key) ?? null, lsn)!)
      onRecordFailed?.(err as Error)
    }
  }
  async function flush () {
    for (const [key, lsn] of [...pending]) await send(key, lsn)
  }

  return {
    async needed (sub) {
      const key = keyOf(sub)
      const mine = local.get(key) ?? null
      if (!redis) return mine
      // a record of ours that Redis has not taken yet: other instances cannot know it either
      if (pending.has(key)) return 'unknown'
      const shared = await breaker.run(async (r) => ({ lsn: parseLsn(await r.get(key)) }), () => null)
      return shared === null ? 'unknown' : maxLsn(mine, shared.lsn)
    },
    async record (sub, lsn) {
      const key = keyOf(sub)
      local.set(key, maxLsn(local.get(key) ?? null, lsn)!)
      if (!recorder) return
      await connected
      await send(key, lsn)
    },
    async close () {
      clearInterval(retry)
      recorder?.disconnect()
    }
  }
}
