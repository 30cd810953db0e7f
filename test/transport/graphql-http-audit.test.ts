// The GraphQL-over-HTTP specification's own audit suite (graphql-http's auditServer, one request
// per audit) against a real server listening on 127.0.0.1, in development configuration and in
// production configuration (production's limits, none raised: the audit fits in them).
import { afterAll, beforeAll, expect, it } from 'vitest'
import { auditServer, type AuditResult } from 'graphql-http'
import type { App } from '../../src/app.js'
import { buildApp } from '../../src/server-options.js'
import { buildTestApp, createTestDatabase, testConfig, type TestDatabase } from '../helpers/app.js'
import { report } from '../helpers/faults.js'
import { describeWith, TEST_REDIS_URL } from '../helpers/services.js'

// Audits that query `__type`: production refuses introspection, so they cannot pass there.
const NEED_INTROSPECTION = ['BF61', '2EA1', '28B9', 'D6D5', '6A70']

// What a Bastion client sends with a GET (docs/http.md): the header that makes it a request a
// browser must preflight, which CSRF prevention requires. The audit's GETs carry none.
const preflighted: typeof fetch = (input, init = {}) => (init.method ?? 'GET') === 'GET'
  ? fetch(input, { ...init, headers: { ...init.headers as Record<string, string>, 'graphql-require-preflight': '1' } })
  : fetch(input, init)

async function audit (app: App, name: string) {
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `${address}/graphql`
  const results = await auditServer({ url, fetchFn: preflighted })
  // the table in docs/http.md
  const count = (status: string) => results.filter((r) => r.status === status).length
  report(`graphql-http audit, ${name}`, { ok: count('ok'), warn: count('warn'), error: count('error'), notice: count('notice') })
  return { url, results }
}

const notOk = (results: AuditResult[]) => results.filter((r) => r.status !== 'ok')
// with the HTTP status, so that a failure says which (a 503 is load shedding on a starved machine)
const summary = (results: AuditResult[]) => notOk(results).map((r) => ({ id: r.id, status: r.status, reason: 'reason' in r ? r.reason : '', http: 'response' in r ? r.response?.status : undefined }))

describeWith('redis', 'graphql-http audit', () => {
  let db: TestDatabase
  const apps: App[] = []
  beforeAll(async () => { db = await createTestDatabase() })
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()))
    await db?.drop()
  })

  it('passes every audit in development configuration', async () => {
    const app = await buildTestApp(db.url, { NODE_ENV: 'development' })
    apps.push(app)
    const { results } = await audit(app, 'development')
    expect(results.length).toBeGreaterThanOrEqual(60)
    expect(summary(results)).toEqual([])
  })

  it('passes every audit in production configuration, but those that need introspection', async () => {
    // production's own limits: testConfig raises the rate limits, these put the defaults back
    const config = testConfig(db.url, { NODE_ENV: 'production', REDIS_URL: TEST_REDIS_URL, RATE_LIMIT_MAX: undefined, RATE_LIMIT_POINTS: undefined })
    expect([config.RATE_LIMIT_MAX, config.RATE_LIMIT_POINTS, config.INTROSPECTION]).toEqual([100, 10_000, false])
    const app = await buildApp(config)
    apps.push(app)
    const { url, results } = await audit(app, 'production')
    const failed = notOk(results)
    expect(failed.map((r) => r.id).filter((id) => !NEED_INTROSPECTION.includes(id)), JSON.stringify(summary(results))).toEqual([])
    // each fails because introspection is refused, nothing else
    for (const r of failed) {
      const body = await r.response!.json() as { errors?: Array<{ extensions?: { code?: string } }> }
      expect([r.id, [...new Set(body.errors?.map((e) => e.extensions?.code))]]).toEqual([r.id, ['GRAPHQL_VALIDATION_FAILED']])
    }
    // and the same request without `__type` passes
    const res = await preflighted(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ query: 'query Q($id: ID!) { user(id: $id) { id } }', variables: { id: '1' } }) })
    expect([res.status, await res.json()]).toEqual([200, { data: { user: { id: '1' } } }])
  })

  it('keeps the CSRF rule on the real server: a GET without a preflight-forcing header is refused', async () => {
    const app = await buildTestApp(db.url, { NODE_ENV: 'development' })
    apps.push(app)
    const address = await app.listen({ host: '127.0.0.1', port: 0 })
    const url = `${address}/graphql?query=${encodeURIComponent('{ __typename }')}`
    const bare = await fetch(url, { headers: { accept: 'application/graphql-response+json' } })
    expect([bare.status, ((await bare.json()) as { errors: Array<{ extensions: { code: string } }> }).errors.map((e) => e.extensions.code)]).toEqual([400, ['BAD_USER_INPUT']])
    for (const header of ['graphql-require-preflight', 'mercurius-require-preflight', 'x-mercurius-operation-name']) {
      const ok = await fetch(url, { headers: { accept: 'application/graphql-response+json', [header]: '1' } })
      expect([header, ok.status, await ok.json()]).toEqual([header, 200, { data: { __typename: 'Query' } }])
    }
  })
})
