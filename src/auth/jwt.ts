// JWT verification and (development) signing with fast-jwt. HS256 only: `alg: none` and every
// other algorithm are refused; `exp` is required. Verified tokens are cached until they expire,
// so a hot client costs one LRU lookup per request.
import { createDecoder, createSigner, createVerifier } from 'fast-jwt'
import type { Config } from '../config.js'
import type { Caller } from '../graphql/context.js'
import { callerOf, checkTimes, InvalidTokenError } from './claims.js'

export { InvalidTokenError }
export type Verify = (token: string) => Caller

const CLOCK_TOLERANCE_MS = 5000

const decode = createDecoder()

/** Why fast-jwt refused a token: its error code, or (it throws a RangeError on `nbf: 1e308`) a time check. */
function refusal (err: unknown, token: string): InvalidTokenError {
  const code = (err as { code?: string }).code
  if (code) return new InvalidTokenError(code)
  try {
    checkTimes(decode(token) as Record<string, unknown>, Date.now(), CLOCK_TOLERANCE_MS)
  } catch (timeErr) {
    if (timeErr instanceof InvalidTokenError) return timeErr
  }
  return new InvalidTokenError('invalid')
}

export function createTokenVerifier (config: Pick<Config, 'JWT_SECRET' | 'JWT_ISSUER' | 'JWT_AUDIENCE'>): Verify {
  const verify = createVerifier({
    key: config.JWT_SECRET,
    algorithms: ['HS256'],
    // fast-jwt checks iss and aud only when the token has them: require them when they are set
    requiredClaims: ['exp', ...(config.JWT_ISSUER ? ['iss'] : []), ...(config.JWT_AUDIENCE ? ['aud'] : [])],
    allowedIss: config.JWT_ISSUER,
    allowedAud: config.JWT_AUDIENCE,
    clockTolerance: CLOCK_TOLERANCE_MS,
    cache: 10_000
  })
  return (token) => {
    let payload: Record<string, unknown>
    try {
      payload = verify(token)
    } catch (err) {
      throw refusal(err, token)
    }
    return callerOf(payload, { subjectClaim: 'sub', rolesClaim: 'roles', toleranceMs: CLOCK_TOLERANCE_MS })
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
