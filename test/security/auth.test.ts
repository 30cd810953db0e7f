// Authentication: HS256 with JWT_SECRET only, expiry enforced, issuer and audience when set; a
// present but bad token is 401, never anonymous. Failures and denials are security events.
import { execFile } from 'node:child_process'
import { createHmac, generateKeyPairSync } from 'node:crypto'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSigner } from 'fast-jwt'
import type { App } from '../../src/app.js'
import { signToken } from '../../src/auth/jwt.js'
import { ROOT } from '../../src/paths.js'
import { buildTestApp, errorsOf, gql, JWT_SECRET, token } from '../helpers/app.js'
import { events, useLoggedApp } from './helpers.js'

const run = promisify(execFile)
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const exp = () => Math.floor(Date.now() / 1000) + 600
const claims = () => ({ sub: '1', roles: ['admin'], exp: exp() })
/** a token with any header, signed (or not) as given */
function craft (header: Record<string, unknown>, payload: Record<string, unknown>, sign?: (input: string) => string) {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${sign ? sign(input) : ''}`
}
const hmac = (alg: 'sha256' | 'sha512', key: string | Buffer) => (input: string) => createHmac(alg, key).update(input).digest('base64url')

const t = useLoggedApp()

const UNAUTHENTICATED = [{ code: 'UNAUTHENTICATED', path: undefined }]

describe('tokens that are refused with 401 UNAUTHENTICATED', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const cases: Array<[string, () => string]> = [
    ['alg none, unsigned', () => craft({ alg: 'none', typ: 'JWT' }, claims())],
    ['alg none with a signature', () => craft({ alg: 'none', typ: 'JWT' }, claims(), hmac('sha256', JWT_SECRET))],
    ['alg NONE', () => craft({ alg: 'NONE', typ: 'JWT' }, claims())],
    ['HS512 with the right secret', () => createSigner({ key: JWT_SECRET, algorithm: 'HS512' })(claims())],
    ['RS256 with a key of its own', () => createSigner({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, algorithm: 'RS256' })(claims())],
    ['HS256 with a header claiming RS256', () => craft({ alg: 'RS256', typ: 'JWT' }, claims(), hmac('sha256', JWT_SECRET))],
    ['HS256 with another secret', () => craft({ alg: 'HS256', typ: 'JWT' }, claims(), hmac('sha256', 'another-secret-another-secret-123'))],
    ['a tampered payload', () => { const [h, , s] = token('2').split('.'); return `${h}.${b64({ sub: '1', roles: ['admin'], exp: exp() })}.${s}` }],
    ['no exp', () => craft({ alg: 'HS256', typ: 'JWT' }, { sub: '1', roles: ['admin'] }, hmac('sha256', JWT_SECRET))],
    ['expired', () => token('1', ['admin'], -60)],
    ['not valid yet (nbf)', () => craft({ alg: 'HS256', typ: 'JWT' }, { ...claims(), nbf: exp() }, hmac('sha256', JWT_SECRET))],
    ['no sub', () => craft({ alg: 'HS256', typ: 'JWT' }, { roles: ['admin'], exp: exp() }, hmac('sha256', JWT_SECRET))],
    ['garbage', () => 'not-a-jwt']
  ]
  it.each(cases)('%s', async (_, make) => {
    const res = await gql(t.app, '{ me { id } }', { token: make() })
    expect(res.statusCode).toBe(401)
    expect(errorsOf(res.body)).toEqual(UNAUTHENTICATED)
  })

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', `Bearer  ${token('1')}`, `Bearer ${token('1')}\u0000`])('a malformed Authorization header: %s', async (header) => {
    const res = await gql(t.app, '{ me { id } }', { headers: { authorization: header } })
    expect(res.statusCode).toBe(401)
    expect(errorsOf(res.body)).toEqual(UNAUTHENTICATED)
  })

  it('accepts a good HS256 token', async () => {
    expect((await gql(t.app, '{ me { id } }', { token: token('3') })).body).toEqual({ data: { me: { id: '3' } } })
  })

  it.each(['bearer', 'BEARER', 'bEaReR'])('takes the scheme in any case (RFC 9110 11.1): %s', async (scheme) => {
    const res = await gql(t.app, '{ me { id } }', { headers: { authorization: `${scheme} ${token('3')}` } })
    expect(res.body).toEqual({ data: { me: { id: '3' } } })
  })
})

describe('issuer and audience (JWT_ISSUER, JWT_AUDIENCE)', () => {
  const expected = { JWT_SECRET, JWT_ISSUER: 'https://id.example.com/', JWT_AUDIENCE: 'bastion-api' }
  let checked: App
  beforeAll(async () => { checked = await buildTestApp(t.db.url, { JWT_ISSUER: expected.JWT_ISSUER, JWT_AUDIENCE: expected.JWT_AUDIENCE }) })
  afterAll(async () => { await checked?.close() })

  it('accepts the expected issuer and audience', async () => {
    expect((await gql(checked, '{ me { id } }', { token: signToken(expected, { sub: '4' }) })).body).toEqual({ data: { me: { id: '4' } } })
  })

  it.each([
    ['neither', { JWT_SECRET, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined }],
    ['another issuer', { ...expected, JWT_ISSUER: 'https://evil.example.com/' }],
    ['another audience', { ...expected, JWT_AUDIENCE: 'other-api' }],
    ['no audience', { ...expected, JWT_AUDIENCE: undefined }]
  ])('refuses a token with %s', async (_, signer) => {
    const res = await gql(checked, '{ me { id } }', { token: signToken(signer, { sub: '4' }) })
    expect(res.statusCode).toBe(401)
    expect(errorsOf(res.body)).toEqual(UNAUTHENTICATED)
  })
})

describe('security events', () => {
  it('logs authentication failures with reason, IP and request id, never the token', async () => {
    const forged = craft({ alg: 'none' }, claims())
    const before = t.logs.length
    await gql(t.app, '{ me { id } }', { token: forged, headers: { 'x-request-id': 'auth-fail-1' } })
    const logged = events(t.logs.slice(before))
    expect(logged.map((l) => ({ event: l.event, ip: l.ip, reqId: l.reqId, reason: typeof l.reason }))).toEqual([
      { event: 'authentication_failed', ip: '127.0.0.1', reqId: 'auth-fail-1', reason: 'string' }
    ])
    expect(JSON.stringify(t.logs.slice(before))).not.toContain(forged.split('.')[1])
  })

  it('logs one authorization denial per request, with subject and field', async () => {
    const before = t.logs.length
    const res = await gql(t.app, '{ users(limit: 3) { id email } }', { token: token('9'), headers: { 'x-request-id': 'denied-1' } })
    expect(errorsOf(res.body)).toEqual([0, 1, 2].map((i) => ({ code: 'FORBIDDEN', path: ['users', i, 'email'] })))
    expect(events(t.logs.slice(before)).map((l) => ({ event: l.event, sub: l.sub, field: l.field, reqId: l.reqId }))).toEqual([
      { event: 'authorization_denied', sub: '9', field: 'User.email', reqId: 'denied-1' }
    ])
  })
})

describe('npm run token', () => {
  const cli = (env: Record<string, string>) => run(process.execPath, ['--import', 'tsx', 'src/token-cli.ts', '--sub', '5', '--roles', 'admin'], {
    cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }
  })

  it('mints a token this server accepts', async () => {
    const { stdout } = await cli({ NODE_ENV: 'test', JWT_SECRET })
    expect((await gql(t.app, '{ me { id } }', { token: stdout.trim() })).body).toEqual({ data: { me: { id: '5' } } })
  })

  it('refuses to run in production', async () => {
    const env = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/app', REDIS_URL: 'redis://cache', JWT_SECRET }
    await expect(cli(env)).rejects.toMatchObject({ code: 1, stdout: '' })
  })
})
