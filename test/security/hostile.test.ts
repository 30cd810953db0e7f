// The hostile-input pack: one line per attack, with the status and error codes it must get.
// Every case: no 500, only codes from the error code table, and /health still answers afterwards.
// To add a case, add a line to CASES: a query string (sent as POST JSON), or a request.
// Each case is sent twice, as a current client sends it (Accept: application/graphql-response+json,
// application/json;q=0.9) and as a legacy one (Accept: application/json), and the status follows
// the GraphQL-over-HTTP media-type rule (docs/http.md): one number is the status under both, a
// pair [graphql-response+json, json] is a GraphQL request error on a well-formed request (a 4xx for
// current clients, 200 for legacy ones).
import { parse } from 'graphql'
import { expect, it } from 'vitest'
import { ERRORS } from '../../src/error-codes.js'
import { MODERN_ACCEPT, token, useTestApp } from '../helpers/app.js'
import { withDepth, withDepthThroughFragments } from './helpers.js'

interface Request {
  method?: 'GET' | 'POST'
  url?: string
  headers?: Record<string, string>
  /** the raw body; default: JSON of { query, variables } */
  body?: string
  query?: string
  variables?: unknown
}
type Case = [name: string, request: string | Request, status: number | [modern: number, json: number], codes: string[]]
const REQUEST_ERROR: [number, number] = [400, 200]

const json = { 'content-type': 'application/json' }
const get = (query: string, headers: Record<string, string> = { 'mercurius-require-preflight': '1' }): Request =>
  ({ method: 'GET', url: `/graphql?query=${encodeURIComponent(query)}`, headers })
const MB = 1024 * 1024
let fragmentBomb = '{ users { ...F0 } } fragment F40 on User { id }'
for (let i = 0; i < 40; i++) fragmentBomb += ` fragment F${i} on User { ...F${i + 1} ...F${i + 1} }`

export const CASES: Case[] = [
  // fragments
  ['fragment cycle', '{ users { ...A } } fragment A on User { ...B } fragment B on User { ...A }', REQUEST_ERROR, ['GRAPHQL_VALIDATION_FAILED']],
  ['fragment spreading itself through fields', '{ users { ...A } } fragment A on User { posts { author { ...A } } }', REQUEST_ERROR, ['GRAPHQL_VALIDATION_FAILED']],
  ['undefined fragment', '{ users { ...Nowhere } }', REQUEST_ERROR, ['GRAPHQL_VALIDATION_FAILED']],
  ['fragment named __schema hiding depth', withDepthThroughFragments(30, '__schema'), REQUEST_ERROR, ['QUERY_TOO_DEEP']],
  ['deep nesting through fragments', withDepthThroughFragments(40), REQUEST_ERROR, ['QUERY_TOO_DEEP']],
  ['deep nesting', withDepth(100), REQUEST_ERROR, ['QUERY_TOO_DEEP']],
  ['fragment bomb (2^40 fields)', fragmentBomb, REQUEST_ERROR, ['QUERY_TOO_COMPLEX']],
  // floods
  ['alias flood', `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: __typename`).join(' ')} }`, REQUEST_ERROR, ['QUERY_TOO_LARGE']],
  ['alias flood on a list field', `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: users(limit: 100) { id }`).join(' ')} }`, REQUEST_ERROR, ['QUERY_TOO_LARGE']],
  ['directive flood', `{ me { ${'id @include(if: true) '.repeat(200)}} }`, REQUEST_ERROR, ['QUERY_TOO_LARGE']],
  // graphql stops after 100 errors (and reports nothing else)
  ['duplicate directives', `{ me @skip(if: false) ${'@skip(if: false) '.repeat(100)}{ id } }`, REQUEST_ERROR, ['GRAPHQL_VALIDATION_FAILED']],
  // graphql's OverlappingFieldsCanBeMerged is quadratic in repeats of a response name (it aborts
  // past a budget, after ~220 ms of CPU): a name repeated past 10 times is refused before it runs
  ['field flood', `{ ${'__typename '.repeat(1990)}}`, REQUEST_ERROR, ['QUERY_TOO_LARGE']],
  ['field flood under the merge budget', `{ ${'me { id } '.repeat(200)}}`, REQUEST_ERROR, ['QUERY_TOO_LARGE']],
  ['a few repeats of a field', `{ ${'me { id } '.repeat(10)}}`, 200, []],
  ['batch flood', { body: JSON.stringify(Array.from({ length: 1000 }, () => ({ query: '{ me { id } }' }))) }, 400, ['QUERY_TOO_LARGE']],
  ['token bomb', `{ ${'a '.repeat(200_000)}}`, REQUEST_ERROR, ['QUERY_TOO_LARGE']],
  ['comment bomb just under 1 MB', `{ me { id } } #${'x'.repeat(MB - 100)}`, 200, []],
  ['1 MB query string', `{ me { id } } #${'x'.repeat(MB)}`, 413, ['QUERY_TOO_LARGE']],
  ['1 MB string argument', `{ user(id: "${'9'.repeat(MB)}") { id } }`, 413, ['QUERY_TOO_LARGE']],
  ['string argument near 1 MB', `{ user(id: "${'9'.repeat(MB - 1000)}") { id } }`, 200, ['BAD_USER_INPUT']],
  ['expensive list query', '{ users(limit: 100) { posts(limit: 100) { author { posts(limit: 100) { id } } } } }', REQUEST_ERROR, ['QUERY_TOO_COMPLEX']],
  // variables and arguments
  ['variable of the wrong type', { query: 'query ($n: Int) { users(limit: $n) { id } }', variables: { n: 'ten' } }, REQUEST_ERROR, ['BAD_USER_INPUT']],
  ['variable of the wrong type, again (cached, compiled)', { query: 'query ($n: Int) { users(limit: $n) { id } }', variables: { n: 'ten' } }, REQUEST_ERROR, ['BAD_USER_INPUT']],
  ['variable over 32 bits', { query: 'query ($n: Int) { users(limit: $n) { id } }', variables: { n: 1e12 } }, REQUEST_ERROR, ['BAD_USER_INPUT']],
  ['object where a scalar goes', { query: 'query ($id: ID!) { user(id: $id) { id } }', variables: { id: { $ne: null } } }, REQUEST_ERROR, ['BAD_USER_INPUT']],
  ['missing required variable', { query: 'query ($id: ID!) { user(id: $id) { id } }', variables: {} }, REQUEST_ERROR, ['BAD_USER_INPUT']],
  ['variables not an object', { body: JSON.stringify({ query: '{ me { id } }', variables: [1, 2] }) }, 400, ['BAD_USER_INPUT']],
  ['huge limit', '{ users(limit: 1000000000) { id } }', 200, ['BAD_USER_INPUT']],
  ['negative limit', '{ users(limit: -5) { id } }', 200, ['BAD_USER_INPUT']],
  ['limit over 32 bits', '{ users(limit: 99999999999) { id } }', REQUEST_ERROR, ['GRAPHQL_VALIDATION_FAILED']],
  // an offset is priced (1 point per 10 rows skipped, at most 100,000 rows): refused before it runs
  ['huge offset', '{ posts(offset: 2000000000) { id } }', REQUEST_ERROR, ['QUERY_TOO_COMPLEX']],
  ['deep paging through aliases', `{ ${Array.from({ length: 9 }, (_, i) => `p${i}: posts(limit: 100, offset: 99900) { id }`).join(' ')} }`, REQUEST_ERROR, ['QUERY_TOO_COMPLEX']],
  ['null limits priced as the default page', '{ posts(limit: null) { author { posts(limit: null) { author { posts(limit: null) { author { posts(limit: null) { author { posts(limit: null) { id } } } } } } } } } }', REQUEST_ERROR, ['QUERY_TOO_COMPLEX']],
  ['negative offset', '{ posts(offset: -1) { id } }', 200, ['BAD_USER_INPUT']],
  ['negative nested limit', '{ users(limit: 1) { posts(limit: -1) { id } } }', 200, ['BAD_USER_INPUT']],
  ['null byte in an argument', '{ user(id: "1\\u0000") { id } }', 200, ['BAD_USER_INPUT']],
  ['null byte in the document', { body: JSON.stringify({ query: '{ me { id } }\u0000' }) }, REQUEST_ERROR, ['GRAPHQL_PARSE_FAILED']],
  ['null byte in a mutation input', { query: 'mutation ($i: CreatePostInput!) { createPost(input: $i) { id } }', variables: { i: { title: 'a\u0000b', body: 'x' } }, headers: { authorization: `Bearer ${token('1')}` } }, 200, ['BAD_USER_INPUT']],
  // requests
  ['invalid JSON', { body: '{"query": "{ me { id } }"' }, 400, ['GRAPHQL_PARSE_FAILED']],
  ['JSON with __proto__', { body: '{"query":"{ me { id } }","__proto__":{"admin":true}}' }, 400, ['GRAPHQL_PARSE_FAILED']],
  ['query not a string', { body: '{"query": {"a": 1}}' }, 400, ['BAD_USER_INPUT']],
  ['no query', { body: '{}' }, 400, ['BAD_USER_INPUT']],
  ['syntax error', '{ me { id }', REQUEST_ERROR, ['GRAPHQL_PARSE_FAILED']],
  ['empty selection', '{}', REQUEST_ERROR, ['GRAPHQL_PARSE_FAILED']],
  ['a JSON-encoded AST as the query (mercurius would take it)', JSON.stringify(parse(`{ ${'me { id } '.repeat(900)}}`)), REQUEST_ERROR, ['GRAPHQL_PARSE_FAILED']],
  ['unknown operation name', { body: JSON.stringify({ query: 'query A { me { id } }', operationName: 'B' }) }, REQUEST_ERROR, ['GRAPHQL_VALIDATION_FAILED']],
  ['two anonymous operations', '{ me { id } } { me { id } }', REQUEST_ERROR, ['GRAPHQL_VALIDATION_FAILED']],
  // graphql refuses it as execution starts (data: null), hence 200
  ['subscription on a schema without one', 'subscription { me { id } }', 200, ['GRAPHQL_VALIDATION_FAILED']],
  ['wrong content type', { headers: { 'content-type': 'application/xml', 'mercurius-require-preflight': '1' }, body: '<query/>' }, 415, ['BAD_USER_INPUT']],
  ['form post (CSRF)', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=%7B%20me%20%7B%20id%20%7D%20%7D' }, 400, ['BAD_USER_INPUT']],
  ['text/plain post (CSRF)', { headers: { 'content-type': 'text/plain' }, body: '{"query":"{ me { id } }"}' }, 400, ['BAD_USER_INPUT']],
  ['GET without the preflight header (CSRF)', get('{ me { id } }', {}), 400, ['BAD_USER_INPUT']],
  ['GET mutation', get('mutation { deleteUser(id: "1") }'), 405, ['BAD_USER_INPUT']],
  ['GET with an unknown operation name', { ...get('query A { me { id } }'), url: `/graphql?query=${encodeURIComponent('query A { me { id } }')}&operationName=B` }, REQUEST_ERROR, ['GRAPHQL_VALIDATION_FAILED']],
  ['GET with variables that are not JSON', { ...get('query ($n: Int) { users(limit: $n) { id } }'), url: `/graphql?query=${encodeURIComponent('query ($n: Int) { users(limit: $n) { id } }')}&variables=%7Bnope` }, 400, ['GRAPHQL_PARSE_FAILED']],
  ['GET with a repeated query parameter', { ...get('{ me { id } }'), url: '/graphql?query=%7B%20me%20%7B%20id%20%7D%20%7D&query=%7B%20me%20%7D' }, 400, ['BAD_USER_INPUT']],
  // parameters of the wrong type: not a well-formed request, 400 under both media types
  ['operationName a number', { body: JSON.stringify({ query: '{ me { id } }', operationName: 0 }) }, 400, ['BAD_USER_INPUT']],
  ['operationName a boolean', { body: JSON.stringify({ query: '{ me { id } }', operationName: false }) }, 400, ['BAD_USER_INPUT']],
  ['variables a number', { body: JSON.stringify({ query: '{ me { id } }', variables: 0 }) }, 400, ['BAD_USER_INPUT']],
  ['extensions a string', { body: JSON.stringify({ query: '{ me { id } }', extensions: 'x' }) }, 400, ['BAD_USER_INPUT']],
  ['a JSON array where the request goes (batching off)', { body: '[]' }, 400, ['BAD_USER_INPUT']],
  ['a JSON string where the request goes', { body: '"{ me { id } }"' }, 400, ['BAD_USER_INPUT']],
  ['null parameters (accepted)', { body: JSON.stringify({ query: '{ __typename }', variables: null, operationName: null, extensions: null }) }, 200, []],
  ['an Accept that names neither JSON media type', { query: '{ me { id } }', headers: { accept: 'text/html' } }, 406, ['BAD_USER_INPUT']],
  ['an Accept asking for another charset', { query: '{ me { id } }', headers: { accept: 'application/json; charset=iso-8859-1' } }, 406, ['BAD_USER_INPUT']],
  // tokens
  ['forged token', { query: '{ me { id } }', headers: { authorization: `Bearer ${token('1', ['admin']).slice(0, -3)}abc` } }, 401, ['UNAUTHENTICATED']],
  ['expired token', { query: '{ me { id } }', headers: { authorization: `Bearer ${token('1', ['admin'], -120)}` } }, 401, ['UNAUTHENTICATED']],
  ['alg none token', { query: '{ me { id } }', headers: { authorization: `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"1","roles":["admin"],"exp":9999999999}').toString('base64url')}.` } }, 401, ['UNAUTHENTICATED']],
  ['mutation without a token', 'mutation { deleteUser(id: "1") }', 200, ['UNAUTHENTICATED']],
  ['mutation on someone else', { query: 'mutation { deleteUser(id: "1") }', headers: { authorization: `Bearer ${token('2')}` } }, 200, ['FORBIDDEN']]
]

const t = useTestApp()

function inject (request: string | Request, accept: string) {
  const r: Request = typeof request === 'string' ? { query: request } : request
  const method = r.method ?? 'POST'
  return t.app.inject({
    method,
    url: r.url ?? '/graphql',
    headers: method === 'POST' ? { ...json, accept, ...r.headers } : { accept, ...r.headers },
    ...(method === 'POST' ? { payload: r.body ?? JSON.stringify({ query: r.query, variables: r.variables }) } : {})
  })
}

it.each(CASES)('%s', async (_, request, status, codes) => {
  const [modern, legacy] = typeof status === 'number' ? [status, status] : status
  for (const [accept, expected] of [[MODERN_ACCEPT, modern], ['application/json', legacy]] as const) {
    const res = await inject(request, accept)
    const body = res.json() as { errors?: Array<{ extensions?: { code?: string } }> }
    const seen = [...new Set((body.errors ?? []).map((e) => e.extensions?.code))].sort()
    expect({ accept, status: res.statusCode, codes: seen }).toEqual({ accept, status: expected, codes: [...codes].sort() })
    for (const code of seen) expect(Object.keys(ERRORS)).toContain(code)
  }
  expect((await t.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
})

it('leaves every table intact', async () => {
  const counts = await t.app.db.query<{ users: string, posts: string }>('t', 'SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM posts) AS posts')
  expect(counts.rows[0]).toEqual({ users: '300', posts: '3000' })
})
