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
  lookup?: (hit: boolean) => void
}

/** the largest document automatic persisted queries keep (in memory and in Redis) */
export const PERSISTED_QUERY_MAX_CHARS = 16_384

export function automaticPersistedQueries ({ redis, breaker, ttlSeconds, lookup }: AutomaticOptions) {
  // bounded: registering hashes must not grow memory without limit
  const local = new LRUCache<string, string>({ max: 5000 })
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
      // so registrations cannot fill Redis at the body limit per request
      if (query.length > PERSISTED_QUERY_MAX_CHARS) return
      local.set(hash, query)
      if (redis) await breaker.run((r) => r.set(`apq:${hash}`, query, 'EX', ttlSeconds), () => null)
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
    getQueryFromHash: async (hash: string) => documents.get(hash),
    find: async (hash: string) => documents.get(hash)
  }
}
