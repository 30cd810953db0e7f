// Persisted queries through Mercurius's persistedQueryProvider (https://mercurius.dev/#/docs/persisted-queries).
// - automatic: Apollo's APQ protocol. A hash is stored only after Mercurius has checked that it is
//   the query's SHA-256 and the query ran; the store is Redis (shared by every instance, through the
//   circuit breaker) behind an in-process LRU, or the LRU alone without Redis. Mercurius's own
//   automatic provider keeps hashes in one process, so a client that registered a query on one
//   instance would get PersistedQueryNotFound from the next.
// - only: trusted documents. Only the operations in PERSISTED_QUERIES_FILE run, sent by hash (APQ
//   form) or as their exact text; anything else is PERSISTED_QUERY_NOT_ALLOWED.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { LRUCache } from 'lru-cache'
import type { Redis } from 'ioredis'
import type { RedisBreaker } from '../redis/breaker.js'

export const sha256 = (query: string) => createHash('sha256').update(query, 'utf8').digest('hex')

interface Body { query?: string, extensions?: { persistedQuery?: { version?: number, sha256Hash?: string } } }

const hashOf = (body: Body) => {
  const p = body.extensions?.persistedQuery
  return p?.version === 1 && typeof p.sha256Hash === 'string' && /^[0-9a-f]{64}$/.test(p.sha256Hash) ? p.sha256Hash : false
}

const messages = {
  // Apollo clients recognise these messages (the codes come from src/graphql/error-formatter.ts)
  notFoundError: 'PersistedQueryNotFound',
  notSupportedError: 'PersistedQueryNotSupported',
  mismatchError: 'provided sha does not match query'
}

export interface AutomaticOptions {
  redis: Redis | null
  breaker: RedisBreaker
  /** REDIS_KEY_PREFIX is applied by ioredis */
  ttlSeconds: number
  /** new registrations kept per UTC day, all instances together (PERSISTED_QUERIES_MAX_PER_DAY) */
  maxPerDay: number
  lookup?: (hit: boolean) => void
}

/** the largest document automatic persisted queries keep (in memory and in Redis) */
export const PERSISTED_QUERY_MAX_CHARS = 16_384

// One round trip: count the day's registrations and store the document while under the quota. A
// document already registered is refreshed without counting. KEYS: the day's counter, the document.
// ARGV: the quota, the document's TTL in seconds, the document.
const REGISTER = `
if redis.call('EXISTS', KEYS[2]) == 1 then return redis.call('EXPIRE', KEYS[2], ARGV[2]) end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], 90000) end
if n > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[2])
return 1`

type WithRegister = Redis & { apqRegister (registrations: string, key: string, maxPerDay: number, ttlSeconds: number, query: string): Promise<number> }

export function automaticPersistedQueries ({ redis, breaker, ttlSeconds, maxPerDay, lookup }: AutomaticOptions) {
  // EVALSHA with the script's hash, not the script on every registration (ioredis reloads it after NOSCRIPT)
  if (redis && typeof (redis as WithRegister).apqRegister !== 'function') redis.defineCommand('apqRegister', { numberOfKeys: 2, lua: REGISTER })
  // bounded: registering hashes must not grow memory without limit
  const local = new LRUCache<string, string>({ max: 5000 })
  // without Redis, the same daily quota in this process
  let day = ''
  let registeredToday = 0
  /** the document a hash stands for, without counting a lookup (the GET check's look-ahead) */
  async function find (hash: string): Promise<string | undefined> {
    let query = local.get(hash)
    if (query === undefined && redis) {
      query = await breaker.run((r) => r.get(`apq:${hash}`), () => null) ?? undefined
      if (query !== undefined) local.set(hash, query)
    }
    return query
  }
  return {
    ...messages,
    isPersistedQuery: (body: Body) => !body.query && body.extensions?.persistedQuery !== undefined,
    isPersistedQueryRetry: (body: Body) => Boolean(body.query) && body.extensions?.persistedQuery !== undefined,
    getHash: hashOf,
    getHashForQuery: sha256,
    async getQueryFromHash (hash: string): Promise<string | undefined> {
      const query = await find(hash)
      lookup?.(query !== undefined)
      return query
    },
    find,
    async saveQuery (hash: string, query: string) {
      // anyone may register a document: a large one (comments cost no tokens) is run but not kept,
      // so one registration cannot put a body-sized document in Redis; and past the day's quota
      // (all instances together) none is kept, so many cannot fill it: Redis holds at most about
      // maxPerDay x TTL days x 16 KB. A client past the quota still gets its answers (APQ clients
      // send the full query after PersistedQueryNotFound), it just is not registered.
      if (query.length > PERSISTED_QUERY_MAX_CHARS) return
      const today = new Date().toISOString().slice(0, 10)
      if (redis) {
        const kept = await breaker.run((r) => (r as WithRegister).apqRegister(`apq:registrations:${today}`, `apq:${hash}`, maxPerDay, ttlSeconds, query), () => -1)
        // kept, or Redis is unavailable (this process's bounded LRU still serves it); 0: over the quota
        if (kept !== 0) local.set(hash, query)
        return
      }
      if (today !== day) { day = today; registeredToday = 0 }
      if (local.has(hash) || registeredToday++ < maxPerDay) local.set(hash, query)
    }
  }
}

/**
 * Trusted documents from a file: Apollo's persisted query manifest
 * ({ "format": "apollo-persisted-query-manifest", "operations": [{ "id", "body" }] }) or a plain
 * { "<sha256>": "<query>" } map. Every id must be its body's SHA-256, so the file cannot be wrong.
 */
export function loadTrustedDocuments (file: string): Map<string, string> {
  const json = JSON.parse(readFileSync(file, 'utf8')) as { operations?: Array<{ id: string, body: string }> } & Record<string, unknown>
  const entries: Array<[string, string]> = Array.isArray(json.operations)
    ? json.operations.map((o) => [o.id, o.body])
    : Object.entries(json).filter((e): e is [string, string] => typeof e[1] === 'string')
  for (const [id, body] of entries) {
    if (sha256(body) !== id) throw new Error(`${file}: ${id} is not the SHA-256 of its document`)
  }
  return new Map(entries)
}

export function trustedDocumentsOnly (documents: Map<string, string>) {
  const find = async (hash: string) => documents.get(hash)
  return {
    ...messages,
    isPersistedQuery: () => true,
    // a document sent as text runs only when it is one of the trusted ones; false -> NOT_ALLOWED
    getHash: (body: Body) => {
      const hash = hashOf(body)
      if (hash) return hash
      if (typeof body.query !== 'string') return false
      const text = sha256(body.query)
      return documents.has(text) ? text : false
    },
    getQueryFromHash: find,
    find
  }
}
