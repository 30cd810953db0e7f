// Callers of tokens already verified, keyed by the token string itself: a hit costs one LRU
// lookup (fast-jwt's own cache hashes each token with SHA-256 first, and a custom cache key makes it
// warn at start-up, so the cache sits in front of it instead). An entry lives until the token's
// `exp` and never longer than MAX_AGE_MS, so a key the identity provider rotates out (JWKS) or a
// change of configuration is honoured within that bound. Only successes are cached: a refused
// token is verified (and refused) again each time. Bounded by entries and by the tokens' length.
import { LRUCache } from 'lru-cache'
import type { Caller } from '../graphql/context.js'

export const MAX_AGE_MS = 60_000
const MAX_ENTRIES = 10_000
// each token is at most 8,192 characters (src/plugins/authentication.ts); this caps what all the
// keys together may hold
const MAX_KEY_CHARS = 16 * 1024 * 1024

export interface VerifiedCache {
  get (token: string): Caller | undefined
  /** caches the caller of a verified token (until its exp, at most MAX_AGE_MS) and returns it */
  set (token: string, payload: Record<string, unknown>, caller: Caller): Caller
}

export function verifiedCache (maxAgeMs = MAX_AGE_MS): VerifiedCache {
  const cache = new LRUCache<string, Caller>({
    max: MAX_ENTRIES,
    maxSize: MAX_KEY_CHARS,
    sizeCalculation: (_caller, token) => Math.max(1, token.length),
    ttl: maxAgeMs
  })
  return {
    get: (token) => cache.get(token),
    set (token, payload, caller) {
      // shared by every request presenting the token: nobody may change it
      const frozen = Object.freeze({ ...caller, roles: Object.freeze([...caller.roles]) })
      const ttl = Math.min(maxAgeMs, (payload.exp as number) * 1000 - Date.now())
      if (ttl > 0) cache.set(token, frozen, { ttl })
      return frozen
    }
  }
}
