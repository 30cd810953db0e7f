// Tokens from a real (local) identity provider: a JWKS over HTTP, found directly or through OpenID
// Connect discovery; RS256, ES256 and EdDSA; keys rotated mid-test without a restart; unknown key
// ids cause at most one fetch per JWT_JWKS_REFRESH_MIN_S; while the provider is down the cached
// keys keep working and /ready says `degraded`; rate limits and idempotency key on the subject.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import type { App } from '../../src/app.js'
import { buildTestApp, createTestDatabase, errorsOf, gql, type TestDatabase } from '../helpers/app.js'
import { jwksEnv, startIdentityProvider, withHeader, type IdentityProvider } from '../helpers/identity-provider.js'
import { buildLoggedApp, type LogLine } from './helpers.js'

let db: TestDatabase
let idp: IdentityProvider
beforeAll(async () => {
  db = await createTestDatabase()
  idp = await startIdentityProvider()
})
afterAll(async () => {
  await idp?.close()
  await db?.drop()
})

const ME = '{ me { id } }'
const me = (app: App, token: string) => gql(app, ME, { token })
const ready = async (app: App) => (await app.inject({ method: 'GET', url: '/ready' })).json() as { checks: Record<string, string> }
const failures = async (app: App) => Number(/^jwks_fetch_failures_total (\d+)/m.exec((await app.inject({ method: 'GET', url: '/metrics' })).body)?.[1])

describe('a provider with RS256, ES256 and EdDSA keys', () => {
  let app: App
  const kids: Record<string, string> = {}
  beforeAll(async () => {
    for (const kind of ['RS256', 'ES256', 'EdDSA'] as const) kids[kind] = idp.addKey(kind)
    app = await buildTestApp(db.url, jwksEnv(idp, { JWT_JWKS_REFRESH_MIN_S: '3600' }))
  })
  afterAll(async () => { await app?.close() })

  it.each(['RS256', 'ES256', 'EdDSA'])('accepts a %s token', async (alg) => {
    expect((await me(app, idp.sign(kids[alg], { sub: '7' }))).body).toEqual({ data: { me: { id: '7' } } })
  })

  it('reads roles from JWT_ROLES_CLAIM (a dotted path) and the user id from JWT_SUBJECT_CLAIM', async () => {
    const keycloakish = await buildTestApp(db.url, jwksEnv(idp, { JWT_ROLES_CLAIM: 'realm_access.roles', JWT_SUBJECT_CLAIM: 'https://bastion.example/user_id' }))
    try {
      const token = idp.sign(kids.RS256, { sub: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6', 'https://bastion.example/user_id': '12', realm_access: { roles: ['admin'] } })
      // user 12 reads user 13's email: only an admin may
      expect((await gql(keycloakish, '{ me { id } user(id: "13") { email } }', { token })).body).toEqual({ data: { me: { id: '12' }, user: { email: expect.any(String) } } })
    } finally {
      await keycloakish.close()
    }
  })

  it('reports the JWKS check in /ready', async () => {
    expect((await ready(app)).checks.jwks).toBe('ok')
  })
})

describe('rotation, refresh limits and outages', () => {
  let app: App
  let logs: LogLine[]
  let oldKid: string
  beforeAll(async () => {
    oldKid = idp.addKey('RS256')
    ;({ app, logs } = await buildLoggedApp(db.url, jwksEnv(idp, { JWT_JWKS_REFRESH_MIN_S: '1' })))
  })
  afterAll(async () => { await app?.close() })

  it('picks up a new key without a restart, with one fetch', async () => {
    const newKid = idp.addKey('RS256')
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const before = idp.fetches
    expect((await me(app, idp.sign(newKid, { sub: '3' }))).body).toEqual({ data: { me: { id: '3' } } })
    expect((await me(app, idp.sign(oldKid, { sub: '4' }))).body).toEqual({ data: { me: { id: '4' } } })
    expect(idp.fetches - before).toBe(1)
  })

  it('a flood of unknown key ids causes at most one fetch per JWT_JWKS_REFRESH_MIN_S', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const signed = idp.sign(oldKid, { sub: '2' })
    const before = idp.fetches
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => me(app, withHeader(signed, { alg: 'RS256', kid: `forged-${i}` }))))
    expect(results.map((r) => r.statusCode)).toEqual(Array(50).fill(401))
    expect(idp.fetches - before).toBe(1)
    const started = Date.now()
    for (let i = 0; i < 100; i++) expect((await me(app, withHeader(signed, { alg: 'RS256', kid: `later-${i}` }))).statusCode).toBe(401)
    // one more fetch per second at most, however many forged tokens arrive
    expect(idp.fetches - before).toBeLessThanOrEqual(2 + Math.floor((Date.now() - started) / 1000))
  })

  it('keeps verifying with the cached keys while the provider is down, /ready says degraded, one log line', async () => {
    idp.mode = 'down'
    try {
      const failedBefore = await failures(app)
      const logged = logs.length
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1100))
        // an unknown kid makes the app try the provider (once a second at most)
        expect((await me(app, withHeader(idp.sign(oldKid), { alg: 'RS256', kid: `unknown-${i}` }))).statusCode).toBe(401)
        expect((await me(app, idp.sign(oldKid, { sub: '5' }))).body).toEqual({ data: { me: { id: '5' } } })
      }
      const res = await app.inject({ method: 'GET', url: '/ready' })
      expect({ status: res.statusCode, jwks: (res.json() as { checks: Record<string, string> }).checks.jwks }).toEqual({ status: 200, jwks: 'degraded' })
      expect(await failures(app) - failedBefore).toBe(3)
      expect(logs.slice(logged).filter((l) => String(l.msg).startsWith('JWKS: fetch failed'))).toHaveLength(1)
    } finally {
      idp.mode = 'up'
    }
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const kid = idp.addKey('ES256')
    expect((await me(app, idp.sign(kid, { sub: '6' }))).body).toEqual({ data: { me: { id: '6' } } })
    expect((await ready(app)).checks.jwks).toBe('ok')
  })

  it('two instances refresh independently', async () => {
    const other = await buildTestApp(db.url, jwksEnv(idp, { JWT_JWKS_REFRESH_MIN_S: '1' }))
    try {
      await new Promise((resolve) => setTimeout(resolve, 1100))
      const kid = idp.addKey('EdDSA')
      const before = idp.fetches
      const token = idp.sign(kid, { sub: '8' })
      expect((await me(app, token)).body).toEqual({ data: { me: { id: '8' } } })
      expect((await me(other, token)).body).toEqual({ data: { me: { id: '8' } } })
      expect(idp.fetches - before).toBe(2)
    } finally {
      await other.close()
    }
  })
})

describe('OpenID Connect discovery and start-up', () => {
  it('finds the JWKS through <issuer>/.well-known/openid-configuration', async () => {
    const kid = idp.addKey('ES256')
    const app = await buildTestApp(db.url, { ...jwksEnv(idp), JWT_JWKS_URL: undefined as unknown as string, JWT_OIDC_DISCOVERY: 'true' })
    try {
      expect((await me(app, idp.sign(kid, { sub: '9' }))).body).toEqual({ data: { me: { id: '9' } } })
    } finally {
      await app.close()
    }
  })

  it.each(['down', 'hang'] as const)('refuses to start when the provider is %s, saying what to check', async (mode) => {
    idp.mode = mode
    try {
      await expect(buildTestApp(db.url, jwksEnv(idp))).rejects.toThrow(/JWT_JWKS_URL/)
    } finally {
      idp.mode = 'up'
    }
  })
})

describe('rate limits and idempotency key on the subject', () => {
  let app: App
  let kid: string
  beforeAll(async () => {
    kid = idp.addKey('RS256')
    app = await buildTestApp(db.url, jwksEnv(idp, { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' }))
  })
  afterAll(async () => { await app?.close() })

  it('counts each subject on its own', async () => {
    const a = idp.sign(kid, { sub: '21' })
    const b = idp.sign(kid, { sub: '22' })
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await me(app, a)).statusCode)
    statuses.push((await me(app, b)).statusCode)
    expect(statuses).toEqual([200, 200, 200, 429, 200])
  })

  it('replays an Idempotency-Key for the same subject only', async () => {
    const key = randomBytes(8).toString('hex')
    const create = 'mutation { createPost(input: { title: "idem", body: "b" }) { id author { id } } }'
    const post = async (sub: string) => (await gql(app, create, { token: idp.sign(kid, { sub }), headers: { 'idempotency-key': key } })).body
    const first = await post('23')
    const again = await post('23')
    const other = await post('24')
    expect(errorsOf(first)).toEqual([])
    expect(again).toEqual(first)
    expect(other.data.createPost.author.id).toBe('24')
    expect(other.data.createPost.id).not.toBe(first.data.createPost.id)
  })
})
