// JWT verification and (development) signing with fast-jwt. HS256 only: `alg: none` and every
// other algorithm are refused; `exp` is required. Verified tokens are cached until they expire,
// so a hot client costs one LRU lookup per request.
import { createSigner, createVerifier } from 'fast-jwt'
import type { Config } from '../config.js'
import type { Caller } from '../graphql/context.js'

export type Verify = (token: string) => Caller

export class InvalidTokenError extends Error {
  constructor (readonly reason: string) { super(reason) }
}

export function createTokenVerifier (config: Pick<Config, 'JWT_SECRET' | 'JWT_ISSUER' | 'JWT_AUDIENCE'>): Verify {
  const verify = createVerifier({
    key: config.JWT_SECRET,
    algorithms: ['HS256'],
    // fast-jwt checks iss and aud only when the token has them: require them when they are set
    requiredClaims: ['sub', 'exp', ...(config.JWT_ISSUER ? ['iss'] : []), ...(config.JWT_AUDIENCE ? ['aud'] : [])],
    allowedIss: config.JWT_ISSUER,
    allowedAud: config.JWT_AUDIENCE,
    clockTolerance: 5000,
    cache: 10_000
  })
  return (token) => {
    let payload: { sub?: unknown, roles?: unknown }
    try {
      payload = verify(token)
    } catch (err) {
      throw new InvalidTokenError((err as { code?: string }).code ?? 'invalid')
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new InvalidTokenError('FAST_JWT_INVALID_CLAIM_TYPE')
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : []
    return { sub: payload.sub, roles }
  }
}

export interface SignOptions { sub: string, roles?: string[], expiresInSeconds?: number }

export function signToken (config: Pick<Config, 'JWT_SECRET' | 'JWT_ISSUER' | 'JWT_AUDIENCE'>, opts: SignOptions): string {
  const sign = createSigner({
    key: config.JWT_SECRET,
    algorithm: 'HS256',
    expiresIn: (opts.expiresInSeconds ?? 3600) * 1000,
    ...(config.JWT_ISSUER ? { iss: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { aud: config.JWT_AUDIENCE } : {})
  })
  return sign({ sub: opts.sub, roles: opts.roles ?? [] })
}
