// Security headers on every response (errors and 404s too), CORS for listed origins only, and the
// HTTPS redirect and client IP behind a proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { buildTestApp, createTestDatabase, gql, JWT_SECRET, MODERN_ACCEPT, type TestDatabase } from '../helpers/app.js'

let db: TestDatabase
let app: App
const ORIGIN = 'https://app.example.com'
beforeAll(async () => {
  db = await createTestDatabase()
  app = await buildTestApp(db.url, { CORS_ORIGINS: `${ORIGIN}, https://admin.example.com`, BODY_LIMIT_BYTES: '1000' })
})
afterAll(async () => {
  await app?.close()
  await db?.drop()
})

const SECURITY_HEADERS = {
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'content-security-policy': "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'"
}
const post = (payload: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', ...headers }, payload })

describe('security headers', () => {
  it.each([
    ['a query', () => post('{"query":"{ me { id } }"}'), 200],
    ['a validation error', () => post('{"query":"{ nope }"}', { accept: MODERN_ACCEPT }), 400],
    ['a validation error, answered as application/json', () => post('{"query":"{ nope }"}'), 200],
    ['a bad token', () => post('{"query":"{ me { id } }"}', { authorization: 'Bearer x.y.z' }), 401],
    ['invalid JSON', () => post('{"query":'), 400],
    ['a body over the limit', () => post(JSON.stringify({ query: `{ me { id } } #${'x'.repeat(2000)}` })), 413],
    ['a wrong content type', () => app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/xml', 'mercurius-require-preflight': '1' }, payload: '<q/>' }), 415],
    ['an unknown route', () => app.inject({ method: 'GET', url: '/nowhere' }), 404],
    ['/health', () => app.inject({ method: 'GET', url: '/health' }), 200],
    ['/ready', () => app.inject({ method: 'GET', url: '/ready' }), 200]
  ])('are on %s', async (_, send, status) => {
    const res = await send()
    expect(res.statusCode).toBe(status)
    expect(res.headers).toMatchObject(SECURITY_HEADERS)
    expect(res.headers['x-powered-by']).toBeUndefined()
  })
})

describe('CORS (CORS_ORIGINS)', () => {
  it('answers a listed origin, with the headers a client may read', async () => {
    const res = await post('{"query":"{ me { id } }"}', { origin: ORIGIN })
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN)
    expect(res.headers['access-control-expose-headers']).toContain('x-request-id')
    expect(res.headers['access-control-expose-headers']).toContain('retry-after')
  })

  it('answers a listed origin\'s preflight', async () => {
    const res = await app.inject({
      method: 'OPTIONS', url: '/graphql',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' }
    })
    expect(res.statusCode).toBe(204)
    expect(res.headers).toMatchObject({ 'access-control-allow-origin': ORIGIN, 'access-control-allow-methods': 'GET, POST' })
    expect(res.headers['access-control-allow-headers']).toContain('authorization')
  })

  it.each(['https://evil.example.com', 'https://app.example.com.evil.com', 'http://app.example.com', 'null'])('gives %s no CORS headers', async (origin) => {
    const res = await post('{"query":"{ me { id } }"}', { origin })
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    const preflight = await app.inject({ method: 'OPTIONS', url: '/graphql', headers: { origin, 'access-control-request-method': 'POST' } })
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('gives no CORS headers at all without CORS_ORIGINS', async () => {
    const closed = await buildTestApp(db.url)
    try {
      const res = await gql(closed, '{ me { id } }', { headers: { origin: ORIGIN } })
      expect(res.headers['access-control-allow-origin']).toBeUndefined()
    } finally {
      await closed.close()
    }
  })

  it('refuses * in production and anything that is not an origin', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/app', REDIS_URL: 'redis://cache', JWT_SECRET }
    expect(() => loadConfig({ ...production, CORS_ORIGINS: '*' })).toThrow(ConfigError)
    expect(() => loadConfig({ ...production, CORS_ORIGINS: ORIGIN })).not.toThrow()
    for (const bad of ['https://app.example.com/', 'app.example.com', 'https://app.example.com/path']) {
      expect(() => loadConfig({ ...production, CORS_ORIGINS: bad })).toThrow(/CORS_ORIGINS/)
    }
  })
})

describe('behind a proxy (TRUST_PROXY)', () => {
  let proxied: App
  beforeAll(async () => { proxied = await buildTestApp(db.url, { TRUST_PROXY: 'true', FORCE_HTTPS: 'true', RATE_LIMIT_MAX: '2' }) })
  afterAll(async () => { await proxied?.close() })
  const send = (headers: Record<string, string>, url = '/graphql?x=1') =>
    proxied.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', host: 'api.example.com', ...headers }, payload: '{"query":"{ me { id } }"}' })

  it('redirects X-Forwarded-Proto: http to https with 308, keeping path and query, never cached', async () => {
    const res = await send({ 'x-forwarded-proto': 'http', 'x-forwarded-for': '203.0.113.9' })
    expect(res.statusCode).toBe(308)
    expect(res.headers).toMatchObject({ location: 'https://api.example.com/graphql?x=1', 'cache-control': 'no-store', ...SECURITY_HEADERS })
  })

  it('serves https and direct requests; probes are never redirected', async () => {
    expect((await send({ 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.10' })).statusCode).toBe(200)
    expect((await proxied.inject({ method: 'GET', url: '/health', headers: { 'x-forwarded-proto': 'http' } })).statusCode).toBe(200)
  })

  it('does not redirect without TRUST_PROXY (the header could be anyone\'s)', async () => {
    expect((await gql(app, '{ me { id } }', { headers: { 'x-forwarded-proto': 'http' } })).statusCode).toBe(200)
  })

  it('takes the client IP from the proxy\'s hop, so a forged X-Forwarded-For cannot dodge the limit', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) {
      // the client sends its own (random) entry; the proxy appends the address it saw
      statuses.push((await send({ 'x-forwarded-proto': 'https', 'x-forwarded-for': `10.9.${i}.1, 198.51.100.7` })).statusCode)
    }
    expect(statuses).toEqual([200, 200, 429])
  })
})
