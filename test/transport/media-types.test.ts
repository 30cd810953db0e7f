// GraphQL over HTTP's media types (src/graphql/http-media.ts): the response's Content-Type follows
// Accept, request errors are 4xx under application/graphql-response+json and 200 under
// application/json, and the body (codes, paths, figures) is the same under both. The status of
// each hostile input under both is in test/security/hostile.test.ts.
import { describe, expect, it } from 'vitest'
import { buildTestApp, MODERN_ACCEPT, useTestApp } from '../helpers/app.js'

const MODERN_TYPE = 'application/graphql-response+json; charset=utf-8'
const JSON_TYPE = 'application/json; charset=utf-8'

const t = useTestApp({ MAX_QUERY_DEPTH: '3', MAX_ALIASES: '2', MAX_QUERY_COMPLEXITY: '50', MAX_BATCH: '2' })

const post = (payload: unknown, accept?: string, headers: Record<string, string> = {}) => t.app.inject({
  method: 'POST', url: '/graphql', payload: JSON.stringify(payload), headers: { 'content-type': 'application/json', ...(accept !== undefined && { accept }), ...headers }
})

describe('Content-Type by Accept', () => {
  it.each([
    ['a current client', MODERN_ACCEPT, MODERN_TYPE],
    ['application/graphql-response+json alone', 'application/graphql-response+json', MODERN_TYPE],
    ['with a UTF-8 charset', 'application/graphql-response+json; charset=utf-8', MODERN_TYPE],
    ['application/json preferred by order', 'application/json, application/graphql-response+json', JSON_TYPE],
    ['application/json preferred by q', 'application/graphql-response+json;q=0.5, application/json', JSON_TYPE],
    ['application/json', 'application/json', JSON_TYPE],
    ['*/*', '*/*', JSON_TYPE],
    ['no Accept', undefined, JSON_TYPE]
  ])('%s', async (_, accept, type) => {
    const res = await post({ query: '{ user(id: "1") { id } }' }, accept)
    expect([res.statusCode, res.headers['content-type'], res.json()]).toEqual([200, type, { data: { user: { id: '1' } } }])
    // caches keep one answer per Accept
    expect(res.headers.vary).toMatch(/\bAccept\b/)
  })

  it('answers a batch (outside the specification) as application/json, one result per operation', async () => {
    const res = await post([{ query: '{ user(id: "1") { id } }' }, { query: '{ nope }' }], MODERN_ACCEPT)
    expect([res.statusCode, res.headers['content-type']]).toEqual([200, JSON_TYPE])
    expect(res.json()).toEqual([{ data: { user: { id: '1' } } }, { errors: [expect.objectContaining({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })] }])
  })
})

describe('request errors: 4xx or 200 by media type, the same body', () => {
  it.each([
    ['a parse failure', { query: '{' }, 'GRAPHQL_PARSE_FAILED'],
    ['a validation failure', { query: '{ nope }' }, 'GRAPHQL_VALIDATION_FAILED'],
    ['a variable coercion failure', { query: 'query ($id: ID!) { user(id: $id) { id } }', variables: { id: null } }, 'BAD_USER_INPUT'],
    ['an unknown operation name', { query: 'query A { me { id } }', operationName: 'B' }, 'GRAPHQL_VALIDATION_FAILED'],
    ['a query over MAX_QUERY_DEPTH', { query: '{ users { posts { author { posts { id } } } } }' }, 'QUERY_TOO_DEEP'],
    ['a query over MAX_ALIASES', { query: '{ a: me { id } b: me { id } c: me { id } }' }, 'QUERY_TOO_LARGE'],
    ['a query over MAX_QUERY_COMPLEXITY', { query: '{ users(limit: 10) { posts(limit: 10) { id } } }' }, 'QUERY_TOO_COMPLEX']
  ])('%s', async (_, body, code) => {
    const modern = await post(body, MODERN_ACCEPT)
    const legacy = await post(body, 'application/json')
    expect([modern.statusCode, modern.headers['content-type']]).toEqual([400, MODERN_TYPE])
    expect([legacy.statusCode, legacy.headers['content-type']]).toEqual([200, JSON_TYPE])
    expect(modern.json().errors[0].extensions.code).toBe(code)
    // nothing ran: no data; the codes and the figures (limit, max, cost) are the same for both
    expect(modern.json()).not.toHaveProperty('data')
    expect(legacy.json()).toEqual(modern.json())
  })

  it('keeps the figures of a rejection', async () => {
    const res = await post({ query: '{ users(limit: 10) { posts(limit: 10) { id } } }' }, 'application/json')
    expect(res.json().errors[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', cost: 111, limit: 50 })
  })

  it('answers a malformed request 400 under both', async () => {
    for (const accept of [MODERN_ACCEPT, 'application/json', undefined]) {
      const res = await post({ query: '{ me { id } }', operationName: 7 }, accept)
      expect([res.statusCode, res.json()]).toEqual([400, { errors: [{ message: expect.any(String), extensions: { code: 'BAD_USER_INPUT', field: 'operationName' } }] }])
    }
  })

  it('keeps an HTTP status that is not 400 under both: 405 for a GET mutation', async () => {
    for (const accept of [MODERN_ACCEPT, 'application/json']) {
      const res = await t.app.inject({ method: 'GET', url: `/graphql?query=${encodeURIComponent('mutation { deleteUser(id: "1") }')}`, headers: { accept, 'graphql-require-preflight': '1' } })
      expect(res.statusCode).toBe(405)
    }
  })
})

describe('HTTP-level refusals keep their status under both media types', () => {
  it('429 when the cost budget is spent', async () => {
    const small = await buildTestApp(t.db.url, { RATE_LIMIT_POINTS: '25' })
    try {
      const query = { query: '{ users(limit: 10) { posts(limit: 1) { id } } }' } // 21 points
      const send = (accept: string) => small.inject({ method: 'POST', url: '/graphql', payload: JSON.stringify(query), headers: { 'content-type': 'application/json', accept } })
      expect((await send('application/json')).statusCode).toBe(200)
      for (const accept of [MODERN_ACCEPT, 'application/json']) {
        const res = await send(accept)
        expect([res.statusCode, res.json().errors[0].extensions.code]).toEqual([429, 'RATE_LIMITED'])
      }
    } finally {
      await small.close()
    }
  })
})
