// The hostile-input pack for tokens from an identity provider (a JWKS): one line per attack, with
// the reason its authentication_failed event must give. Every case: 401 UNAUTHENTICATED, never a
// 500, and /health still answers afterwards. To add a case, add a line to CASES.
import { createHmac, generateKeyPairSync, createPublicKey } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { MAX_TOKEN_CHARS } from '../../src/plugins/authentication.js'
import { createTestDatabase, errorsOf, gql, type TestDatabase } from '../helpers/app.js'
import { jwksEnv, startIdentityProvider, withHeader, type IdentityProvider } from '../helpers/identity-provider.js'
import { buildLoggedApp, events, type LogLine } from './helpers.js'

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const now = () => Math.floor(Date.now() / 1000)
const hs256 = (key: string | Buffer, header: Record<string, unknown>, payload: Record<string, unknown>) => {
  const input = `${b64({ typ: 'JWT', ...header })}.${b64(payload)}`
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`
}
const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
const SHARED_SECRET = 'an-oct-key-published-in-the-jwks-0123456789'

let idp: IdentityProvider
let rsa: string
let weak: string
let db: TestDatabase
let app: App
let logs: LogLine[]
/** claims a good token has: right iss and aud, a user id, an hour to live */
const good = () => ({ sub: '1', roles: ['admin'], iss: idp.issuer, aud: 'bastion-api', exp: now() + 3600 })
const rsaPem = () => createPublicKey({ key: idp.publicJwk(rsa) as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string

type Case = [name: string, token: () => string, reason: string]
const CASES: Case[] = [
  // algorithms
  ['algorithm confusion: HS256 signed with the provider public key (PEM)', () => hs256(rsaPem(), { alg: 'HS256', kid: rsa }, good()), 'algorithm_not_allowed'],
  ['algorithm confusion: HS256 signed with the public JWK modulus', () => hs256(String(idp.publicJwk(rsa).n), { alg: 'HS256', kid: rsa }, good()), 'algorithm_not_allowed'],
  ['HS256 signed with an oct key the JWKS publishes', () => hs256(SHARED_SECRET, { alg: 'HS256', kid: 'oct-1' }, good()), 'algorithm_not_allowed'],
  ['alg none', () => `${b64({ alg: 'none', typ: 'JWT', kid: rsa })}.${b64(good())}.`, 'algorithm_not_allowed'],
  ['alg None with a signature', () => withHeader(idp.sign(rsa), { alg: 'None', kid: rsa }), 'algorithm_not_allowed'],
  ['an algorithm not in JWT_ALGORITHMS (PS256)', () => withHeader(idp.sign(rsa), { alg: 'PS256', kid: rsa }), 'algorithm_not_allowed'],
  ['ES256 header on an RSA key id', () => withHeader(idp.sign(rsa), { alg: 'ES256', kid: rsa }), 'unknown_key'],
  // keys
  ['a key not in the set (unknown kid)', () => createSigner({ key: foreign, algorithm: 'RS256', kid: 'not-in-the-set' })(good()), 'unknown_key'],
  ['a key not in the set, under a known kid', () => createSigner({ key: foreign, algorithm: 'RS256', kid: rsa })(good()), 'FAST_JWT_INVALID_SIGNATURE'],
  ['a key not in the set, no kid', () => createSigner({ key: foreign, algorithm: 'RS256' })(good()), 'FAST_JWT_INVALID_SIGNATURE'],
  ['a tampered payload', () => { const [h, , s] = idp.sign(rsa).split('.'); return `${h}.${b64({ ...good(), sub: '2' })}.${s}` }, 'FAST_JWT_INVALID_SIGNATURE'],
  ['a weak RSA key (1024 bits) in the JWKS, not loaded', () => idp.sign(weak, good()), 'unknown_key'],
  ['injected kid: a path', () => withHeader(idp.sign(rsa), { alg: 'RS256', kid: '../../../../etc/passwd' }), 'unknown_key'],
  ['injected kid: SQL', () => withHeader(idp.sign(rsa), { alg: 'RS256', kid: "' OR '1'='1' --" }), 'unknown_key'],
  ['injected kid: a URL', () => withHeader(idp.sign(rsa), { alg: 'RS256', kid: 'https://attacker.example/jwks.json' }), 'unknown_key'],
  ['injected kid: a NUL', () => withHeader(idp.sign(rsa), { alg: 'RS256', kid: `${rsa}\u0000` }), 'unknown_key'],
  ['kid of 10 000 characters', () => withHeader(idp.sign(rsa), { alg: 'RS256', kid: 'k'.repeat(5000) }), 'invalid_kid'],
  ['kid not a string', () => withHeader(idp.sign(rsa), { alg: 'RS256', kid: { $ne: null } }), 'invalid_kid'],
  ['jku header pointing elsewhere', () => withHeader(idp.sign(rsa), { alg: 'RS256', jku: 'https://attacker.example/jwks.json', kid: 'attacker' }), 'unknown_key'],
  // times
  ['expired', () => idp.sign(rsa, { exp: now() - 120 }), 'FAST_JWT_EXPIRED'],
  ['not valid yet (nbf)', () => idp.sign(rsa, { nbf: now() + 600 }), 'FAST_JWT_INACTIVE'],
  ['issued in the future (iat)', () => idp.sign(rsa, { iat: now() + 600 }), 'iat_in_future'],
  ['exp 1e308', () => idp.sign(rsa, { exp: 1e308 }), 'exp_out_of_range'],
  // issuer and audience
  ['wrong iss', () => idp.sign(rsa, { iss: 'https://attacker.example/' }), 'FAST_JWT_INVALID_CLAIM_VALUE'],
  ['wrong aud', () => idp.sign(rsa, { aud: 'another-api' }), 'FAST_JWT_INVALID_CLAIM_VALUE'],
  // size and subject
  [`a token over ${MAX_TOKEN_CHARS} characters`, () => idp.sign(rsa, { pad: 'x'.repeat(MAX_TOKEN_CHARS) }), 'token_too_large'],
  ['an opaque IdP subject', () => idp.sign(rsa, { sub: 'auth0|5f7c8ec7c33c6c004bbafe82' }), 'subject_not_a_user_id']
]

beforeAll(async () => {
  idp = await startIdentityProvider()
  rsa = idp.addKey('RS256')
  idp.addKey('ES256')
  weak = idp.addKey('RS256-1024')
  idp.extraJwks.push({ kty: 'oct', kid: 'oct-1', alg: 'HS256', k: Buffer.from(SHARED_SECRET).toString('base64url') })
  db = await createTestDatabase()
  ;({ app, logs } = await buildLoggedApp(db.url, jwksEnv(idp, { JWT_JWKS_REFRESH_MIN_S: '3600' })))
})
afterAll(async () => {
  await app?.close()
  await db?.drop()
  await idp?.close()
})

it.each(CASES)('%s', async (_, make, reason) => {
  const before = logs.length
  const res = await gql(app, '{ me { id } }', { token: make() })
  expect({ status: res.statusCode, errors: errorsOf(res.body) }).toEqual({ status: 401, errors: [{ code: 'UNAUTHENTICATED', path: undefined }] })
  expect(events(logs.slice(before)).map((l) => ({ event: l.event, reason: l.reason }))).toEqual([{ event: 'authentication_failed', reason }])
  expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
})

it('did not load the weak and the symmetric keys, and said so once', () => {
  const dropped = logs.filter((l) => l.msg === 'JWKS: keys not loaded')
  expect(dropped.map((l) => (l.dropped as string[]).map((d) => d.split(':')[0]))).toEqual([[weak, 'oct-1']])
})

it('accepts the good token these cases start from', async () => {
  expect((await gql(app, '{ me { id } }', { token: idp.sign(rsa, good()) })).body).toEqual({ data: { me: { id: '1' } } })
})

it('never fetched the JWKS again for any of these tokens', () => {
  // the start-up fetch only: JWT_JWKS_REFRESH_MIN_S is an hour
  expect(idp.fetches).toBe(1)
})
