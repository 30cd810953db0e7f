// Verified tokens are cached by the token string (src/auth/verified-cache.ts): a hit still ends at
// the token's exp and at most MAX_AGE_MS after verification, a refused token is never cached, and
// another signature on the same claims is another string, verified (and refused) afresh.
import { createHmac } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { expect, it } from 'vitest'
import { createTokenVerifier, InvalidTokenError } from '../../src/auth/jwt.js'
import { MAX_AGE_MS, verifiedCache } from '../../src/auth/verified-cache.js'
import { JWT_SECRET } from '../helpers/app.js'

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
function signed (payload: Record<string, unknown>, secret = JWT_SECRET): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}
const config = {
  JWT_SECRET, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined, JWT_ALGORITHMS: ['HS256'],
  JWT_ROLES_CLAIM: 'roles', JWT_SUBJECT_CLAIM: 'sub', JWT_CLOCK_TOLERANCE_S: 0
} as unknown as Parameters<typeof createTokenVerifier>[0]
const seconds = () => Math.floor(Date.now() / 1000)

it('answers a repeated token from the cache with one frozen caller, until the token expires', async () => {
  const verify = createTokenVerifier(config)
  const exp = seconds() + 2
  const token = signed({ sub: '7', roles: ['admin'], exp })
  const first = verify(token) as { sub: string, roles: readonly string[] }
  expect(first).toEqual({ sub: '7', roles: ['admin'] })
  expect(verify(token)).toBe(first)
  expect(Object.isFrozen(first) && Object.isFrozen(first.roles)).toBe(true)
  // the same claims under another key: another string, verified and refused
  expect(() => verify(signed({ sub: '7', roles: ['admin'], exp }, 'another secret of enough length!!'))).toThrow(InvalidTokenError)
  await sleep(exp * 1000 - Date.now() + 50)
  expect(() => verify(token)).toThrow(InvalidTokenError)
})

it('a token refused after its signature verifies (its subject is not a user id) is refused again, never served from the cache', () => {
  const verify = createTokenVerifier(config)
  const token = signed({ sub: 'not-a-user', exp: seconds() + 60 })
  expect(() => verify(token)).toThrow(InvalidTokenError)
  expect(() => verify(token)).toThrow(InvalidTokenError)
})

it('keeps an entry at most its maximum age, whatever the token\'s exp', async () => {
  expect(MAX_AGE_MS).toBeLessThanOrEqual(60_000)
  const cache = verifiedCache(50)
  const caller = cache.set('t', { exp: seconds() + 3600 }, { sub: '1', roles: [] })
  expect(cache.get('t')).toBe(caller)
  await sleep(80)
  expect(cache.get('t')).toBeUndefined()
  // a token already past its exp is not kept at all
  cache.set('old', { exp: seconds() - 1 }, { sub: '1', roles: [] })
  expect(cache.get('old')).toBeUndefined()
})
