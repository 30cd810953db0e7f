// Production lock-down: no introspection, no GraphiQL, no "Did you mean" hints, CSRF prevention,
// and unexpected errors masked for the client but logged in full with the request id.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { buildTestApp, createTestDatabase, errorsOf, gql, type TestDatabase } from '../helpers/app.js'
import { describeWith, TEST_REDIS_URL } from '../helpers/services.js'
import { buildLoggedApp, type LogLine } from './helpers.js'

const SECRET_MESSAGE = 'relation "secrets" does not exist (postgres://app:s3cret@10.1.2.3:5432/app)'

describeWith('redis', 'production', () => {
  let db: TestDatabase
  let app: App
  let logs: LogLine[]
  beforeAll(async () => {
    db = await createTestDatabase()
    ;({ app, logs } = await buildLoggedApp(db.url, { NODE_ENV: 'production', REDIS_URL: TEST_REDIS_URL }))
    // an unexpected failure inside a resolver, of the kind a driver reports
    app.graphql.defineResolvers({ Query: { post: () => { throw new Error(SECRET_MESSAGE) } } })
  })
  afterAll(async () => {
    await app?.close()
    await db?.drop()
  })

  it('masks an unexpected error: no message, address or secret reaches the client', async () => {
    const res = await gql(app, '{ users(limit: 1) { id } post(id: "1") { id } }', { headers: { 'x-request-id': 'mask-1' } })
    expect(res.statusCode).toBe(200)
    expect(res.body).toEqual({
      data: { users: [{ id: '1' }], post: null },
      errors: [{ message: 'Internal server error', path: ['post'], extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'mask-1' } }]
    })
    expect(JSON.stringify(res.body)).not.toMatch(/s3cret|10\.1\.2\.3|postgres:|secrets|stack/)
  })

  it('logs the unexpected error in full, with the request id', async () => {
    await gql(app, '{ post(id: "2") { id } }', { headers: { 'x-request-id': 'mask-2' } })
    const line = logs.find((l) => l.reqId === 'mask-2' && l.level === 50)
    expect(line).toMatchObject({ msg: 'unexpected error', err: { message: SECRET_MESSAGE }, path: ['post'] })
    expect((line!.err as { stack?: string }).stack).toContain('Error: relation')
  })

  it('refuses introspection', async () => {
    const res = await gql(app, '{ __schema { types { name } } }')
    expect(res.statusCode).toBe(400)
    expect(new Set(errorsOf(res.body).map((e) => e.code))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']))
  })

  it('removes "Did you mean" hints, which leak the schema', async () => {
    const dev = await buildTestApp(db.url)
    try {
      const query = '{ usr(id: "1") { nam } }'
      expect((await gql(dev, query)).body.errors![0].message).toMatch(/Did you mean/)
      const res = await gql(app, query)
      expect(res.statusCode).toBe(400)
      expect(errorsOf(res.body)).toEqual([{ code: 'GRAPHQL_VALIDATION_FAILED', path: undefined }])
      expect(JSON.stringify(res.body)).not.toMatch(/Did you mean|"user"|"users"/)
    } finally {
      await dev.close()
    }
  })

  it('prevents CSRF: a GET, or a simple-content-type POST, must carry the preflight header', async () => {
    const url = `/graphql?query=${encodeURIComponent('{ user(id: "1") { id } }')}`
    const bare = await app.inject({ method: 'GET', url })
    expect(bare.statusCode).toBe(400)
    expect(errorsOf(bare.json())).toEqual([{ code: 'BAD_USER_INPUT', path: undefined }])
    const preflighted = await app.inject({ method: 'GET', url, headers: { 'mercurius-require-preflight': 'true' } })
    expect(preflighted.statusCode).toBe(200)
    expect(preflighted.json()).toEqual({ data: { user: { id: '1' } } })
    const form = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'text/plain' }, payload: '{"query":"{ me { id } }"}' })
    expect(form.statusCode).toBe(400)
    expect(errorsOf(form.json())).toEqual([{ code: 'BAD_USER_INPUT', path: undefined }])
  })

  it('does not serve GraphiQL', async () => {
    expect((await app.inject({ method: 'GET', url: '/graphiql' })).statusCode).toBe(404)
  })
})
