// The identity provider's public keys (a JWKS), fetched at start-up, cached, and refreshed at most
// once per refreshMinMs: on a token whose key id is unknown (rotation without a restart) and on a
// slow timer. jose's createLocalJWKSet picks a key for a token header (kid, alg -> kty/crv, use,
// key_ops) and imports it. The fetching is ours, not jose's createRemoteJWKSet, because there a
// cooldown only starts after a successful fetch (while the provider is down every forged kid would
// cause a fetch) and a set older than cacheMaxAge refuses every token when the refetch fails; here
// a failed fetch counts toward the interval and cached keys keep working (status `degraded`).
import { createPublicKey, KeyObject, type JsonWebKey } from 'node:crypto'
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWK } from 'jose'
import type { FastifyBaseLogger } from 'fastify'
import { InvalidTokenError } from './claims.js'
import { loadCachedJwks, resolveJwksUrl, fetchJson, saveCachedJwks } from './jwks-fetch.js'

export interface KeySetOptions {
  /** JWT_JWKS_URL; or issuer + discovery */
  url?: string
  issuer?: string
  algorithms: readonly string[]
  refreshMinMs: number
  /** the periodic refresh, which also drops keys the provider has removed */
  refreshEveryMs: number
  timeoutMs: number
  /** development: the last set fetched, used with a warning when the provider is down at start-up */
  cacheFile?: string
  log: FastifyBaseLogger
  /** a fetch failed (a metric) */
  onFailure: () => void
}

export type KeySetStatus = 'ok' | 'degraded'
export interface KeySet {
  /** The PEM public key for a token header; throws InvalidTokenError. */
  keyFor (header: { alg?: unknown, kid?: unknown }): Promise<string>
  status (): KeySetStatus
  start (): Promise<void>
  stop (): void
}

const MAX_KEYS = 100
const MAX_KID_LENGTH = 256

/** Keys worth loading: public, asymmetric, for signatures, readable, RSA of at least 2048 bits. */
function usableKeys (set: unknown): { keys: JWK[], dropped: string[] } {
  const all = (set as { keys?: unknown } | null)?.keys
  if (!Array.isArray(all)) throw new Error('the response is not a JWKS (no keys array)')
  const keys: JWK[] = []
  const dropped: string[] = []
  for (const k of all.slice(0, MAX_KEYS) as JWK[]) {
    const name = typeof k?.kid === 'string' ? k.kid.slice(0, MAX_KID_LENGTH) : '(no kid)'
    if (k === null || typeof k !== 'object' || k.kty === 'oct' || 'd' in k) { dropped.push(`${name}: not a public key`); continue }
    if (k.use !== undefined && k.use !== 'sig') continue
    let key: KeyObject
    try { key = createPublicKey({ key: k as JsonWebKey, format: 'jwk' }) } catch { dropped.push(`${name}: unreadable`); continue }
    const bits = key.asymmetricKeyDetails?.modulusLength
    if (bits !== undefined && bits < 2048) { dropped.push(`${name}: RSA key of ${bits} bits (2048 at least)`); continue }
    keys.push(k)
  }
  return { keys, dropped }
}

export function createKeySet (opts: KeySetOptions): KeySet {
  let select: ReturnType<typeof createLocalJWKSet> | null = null
  let jwksUrl = opts.url
  let lastAttempt = -Infinity
  let pending: Promise<boolean> | null = null
  let failure: string | null = null
  let droppedBefore = ''
  let timer: NodeJS.Timeout | undefined
  const pems = new WeakMap<object, string>()

  function install (set: unknown): void {
    const { keys, dropped } = usableKeys(set)
    if (dropped.join() !== droppedBefore) {
      droppedBefore = dropped.join()
      if (dropped.length > 0) opts.log.warn({ dropped }, 'JWKS: keys not loaded')
    }
    if (keys.length === 0) throw new Error('the JWKS has no usable signing key')
    select = createLocalJWKSet({ keys } as JSONWebKeySet)
  }

  async function load (): Promise<void> {
    jwksUrl ??= await resolveJwksUrl(opts.issuer!, opts.timeoutMs)
    const set = await fetchJson(jwksUrl, opts.timeoutMs)
    install(set)
    if (opts.cacheFile) await saveCachedJwks(opts.cacheFile, set)
  }

  /** One fetch at a time, and none sooner than refreshMinMs after the previous attempt. */
  function refresh (): Promise<boolean> {
    if (pending) return pending
    if (Date.now() - lastAttempt < opts.refreshMinMs) return Promise.resolve(false)
    lastAttempt = Date.now()
    pending = load().then(() => {
      if (failure !== null) opts.log.info({ url: jwksUrl }, 'JWKS: fetched again, keys refreshed')
      failure = null
      return true
    }, (err: Error) => {
      opts.onFailure()
      const message = err.message.slice(0, 300)
      // one log line per change of state, not one per request
      if (failure !== message) opts.log.warn({ url: jwksUrl ?? opts.issuer, err }, 'JWKS: fetch failed, cached keys still in use')
      failure = message
      return false
    }).finally(() => { pending = null })
    return pending
  }

  async function pemFor (header: { alg: string, kid?: string }): Promise<string> {
    const key = await select!(header)
    let pem = pems.get(key)
    if (pem === undefined) {
      pem = KeyObject.from(key).export({ type: 'spki', format: 'pem' }) as string
      pems.set(key, pem)
    }
    return pem
  }

  return {
    async keyFor ({ alg, kid }) {
      // refused before any lookup, so these never cause a fetch
      if (typeof alg !== 'string' || !opts.algorithms.includes(alg)) throw new InvalidTokenError('algorithm_not_allowed')
      if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) throw new InvalidTokenError('invalid_kid')
      const header = { alg, ...(kid === undefined ? {} : { kid }) }
      for (let attempt = 0; ; attempt++) {
        try {
          return await pemFor(header)
        } catch (err) {
          if (err instanceof errors.JWKSMultipleMatchingKeys) throw new InvalidTokenError('ambiguous_key')
          if (!(err instanceof errors.JWKSNoMatchingKey)) throw new InvalidTokenError('unusable_key')
          if (attempt > 0 || !(await refresh())) throw new InvalidTokenError('unknown_key')
        }
      }
    },
    status: () => failure === null ? 'ok' : 'degraded',
    async start () {
      if (!(await refresh())) {
        const cached = opts.cacheFile ? await loadCachedJwks(opts.cacheFile) : undefined
        if (cached === undefined) {
          throw new Error(`cannot load the identity provider's keys from ${jwksUrl ?? `${opts.issuer} (OpenID discovery)`}: ${failure}; check JWT_JWKS_URL (or JWT_ISSUER with JWT_OIDC_DISCOVERY) and that the provider is reachable`)
        }
        install(cached)
        opts.log.warn({ file: opts.cacheFile }, 'JWKS: provider unreachable at start-up; using the keys cached by an earlier run (development only)')
      }
      timer = setInterval(() => { void refresh() }, opts.refreshEveryMs).unref()
    },
    stop () { clearInterval(timer) }
  }
}
