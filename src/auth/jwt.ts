// JWT verification and (development) signing with fast-jwt. Either HS with JWT_SECRET, or the
// identity provider's JWKS (src/auth/jwks.ts) with RS/PS/ES/EdDSA, never both: a public key never
// doubles as an HS secret, and `alg: none` is never accepted. `exp` is required; iss and aud when
// configured. Verified tokens are cached in front of fast-jwt (src/auth/verified-cache.ts): a hot
// client costs one LRU lookup per request whatever the algorithm.
import { createDecoder, createSigner, createVerifier, type Algorithm } from 'fast-jwt'
import { verifiedCache } from './verified-cache.js'
import type { Config } from '../config.js'
import type { Caller } from '../graphql/context.js'
import { callerOf, checkTimes, InvalidTokenError, type ClaimOptions } from './claims.js'
import type { KeySet } from './jwks.js'

export { InvalidTokenError }
/** Synchronous for HS (a cache hit costs no promise), a promise with a JWKS. */
export type Verify = (token: string) => Caller | Promise<Caller>

type VerifierConfig = Pick<Config, 'JWT_SECRET' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'JWT_ALGORITHMS' | 'JWT_ROLES_CLAIM' | 'JWT_SUBJECT_CLAIM' | 'JWT_CLOCK_TOLERANCE_S'>

const decode = createDecoder()

/** Why a token was refused: our own reason, fast-jwt's error code, or (fast-jwt throws a RangeError on `nbf: 1e308`) a time check. */
function refusal (err: unknown, token: string, toleranceMs: number): InvalidTokenError {
  if (err instanceof InvalidTokenError) return err
  const { code, originalError } = err as { code?: string, originalError?: unknown }
  if (originalError instanceof InvalidTokenError) return originalError
  if (code) return new InvalidTokenError(code)
  try {
    checkTimes(decode(token) as Record<string, unknown>, Date.now(), toleranceMs)
  } catch (timeErr) {
    if (timeErr instanceof InvalidTokenError) return timeErr
  }
  return new InvalidTokenError('invalid')
}

export function createTokenVerifier (config: VerifierConfig, keys?: KeySet): Verify {
  const toleranceMs = config.JWT_CLOCK_TOLERANCE_S * 1000
  const claims: ClaimOptions = { subjectClaim: config.JWT_SUBJECT_CLAIM, rolesClaim: config.JWT_ROLES_CLAIM, toleranceMs }
  const common = {
    algorithms: config.JWT_ALGORITHMS as Algorithm[],
    // fast-jwt checks iss and aud only when the token has them: require them when they are set
    requiredClaims: ['exp', ...(config.JWT_ISSUER ? ['iss'] : []), ...(config.JWT_AUDIENCE ? ['aud'] : [])],
    allowedIss: config.JWT_ISSUER,
    allowedAud: config.JWT_AUDIENCE,
    clockTolerance: toleranceMs,
    // ours instead (verifiedCache): fast-jwt's hashes every token (SHA-256) to look it up
    cache: false
  }
  const verified = verifiedCache()
  if (keys === undefined) {
    const verify = createVerifier({ ...common, key: config.JWT_SECRET })
    return (token) => {
      const hit = verified.get(token)
      if (hit) return hit
      let payload: Record<string, unknown>
      try {
        payload = verify(token)
      } catch (err) {
        throw refusal(err, token, toleranceMs)
      }
      return verified.set(token, payload, callerOf(payload, claims))
    }
  }
  const verify = createVerifier({ ...common, key: async ({ header }: { header: { alg?: unknown, kid?: unknown } }) => keys.keyFor(header) })
  return (token) => verified.get(token) ?? (async () => {
    let payload: Record<string, unknown>
    try {
      payload = await verify(token)
    } catch (err) {
      throw refusal(err, token, toleranceMs)
    }
    return verified.set(token, payload, callerOf(payload, claims))
  })()
}

export interface SignOptions {
  sub: string
  roles?: string[]
  expiresInSeconds?: number
  /** a PEM private key (RS256, ES256, EdDSA ...); default: HS256 with JWT_SECRET */
  privateKey?: string
  algorithm?: Algorithm
  kid?: string
}

export function signToken (config: Pick<Config, 'JWT_SECRET' | 'JWT_ISSUER' | 'JWT_AUDIENCE'>, opts: SignOptions): string {
  const sign = createSigner({
    key: opts.privateKey ?? config.JWT_SECRET,
    algorithm: opts.algorithm ?? 'HS256',
    expiresIn: (opts.expiresInSeconds ?? 3600) * 1000,
    ...(opts.kid ? { kid: opts.kid } : {}),
    ...(config.JWT_ISSUER ? { iss: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { aud: config.JWT_AUDIENCE } : {})
  })
  return sign({ sub: opts.sub, roles: opts.roles ?? [] })
}
