// Property-based fuzzing (fast-check): documents built from the schema with valid and invalid
// arguments and variables, the same documents broken at random, and random bytes as bodies
// under random content types. Whatever arrives: never a 500 or INTERNAL_SERVER_ERROR, the
// process keeps answering, and memory does not grow with the number of requests.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { GRAPHQL_RESPONSE } from '../../src/graphql/http-media.js'
import { buildTestApp, createTestDatabase, MODERN_ACCEPT, token, type TestDatabase } from '../helpers/app.js'
import { report } from '../helpers/faults.js'

let db: TestDatabase
let app: App
beforeAll(async () => {
  db = await createTestDatabase()
  app = await buildTestApp(db.url, { RATE_LIMIT_MAX: '0', RATE_LIMIT_POINTS: '0', MAX_BATCH: '3' })
})
afterAll(async () => {
  await app?.close()
  await db?.drop()
})

// --- documents from the schema (src/graphql/schema/, src/domain/*/schema.graphql): mostly valid arguments, some not
const bad = fc.oneof(fc.integer().map(String), fc.constantFrom('-1', '0', '101', '1e400', '1.5', 'null', 'true', '[]', '{}', '"x"', '$undeclared'))
const int = (min: number, max: number) => fc.oneof({ weight: 12, arbitrary: fc.integer({ min, max }).map(String) }, { weight: 1, arbitrary: bad })
// small limits mostly: nested lists of 100 are over MAX_QUERY_COMPLEXITY (a 400 of its own)
const page = fc.record({ limit: fc.oneof({ weight: 4, arbitrary: int(1, 5) }, { weight: 1, arbitrary: int(1, 100) }), offset: int(0, 200) }, { requiredKeys: [] })
  .map((a) => Object.keys(a).length ? `(${Object.entries(a).map(([k, v]) => `${k}: ${v}`).join(', ')})` : '')
const id = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 40 }).map((n) => `"${n}"`) }, { weight: 1, arbitrary: bad })
const idArg = id.map((v) => `(id: ${v})`)
const field = (names: string[]) => fc.oneof({ weight: 40, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.constantFrom('nope', '__typename', 'x: id') })

// one field of a name per selection: the same field twice with other arguments does not validate
const fieldName = (f: string) => f.split(/[ ({]/)[0]

const postFields = (depth: number): fc.Arbitrary<string> => fc.uniqueArray(fc.oneof(
  field(['id', 'title', 'body', 'createdAt']),
  ...(depth > 0 ? [userFields(depth - 1).map((s) => `author { ${s} }`)] : [])
), { minLength: 1, maxLength: 4, selector: fieldName }).map((f) => f.join(' '))

const userFields = (depth: number): fc.Arbitrary<string> => fc.uniqueArray(fc.oneof(
  field(['id', 'name', 'email', 'createdAt']),
  ...(depth > 0 ? [fc.tuple(page, postFields(depth - 1)).map(([p, s]) => `posts${p} { ${s} }`)] : [])
), { minLength: 1, maxLength: 4, selector: fieldName }).map((f) => f.join(' '))

const text = fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.constant(''), fc.constant('x'.repeat(300)), fc.constant("'; DROP TABLE users; --"))
const email = fc.oneof({ weight: 3, arbitrary: fc.emailAddress() }, { weight: 1, arbitrary: text })
const query = fc.oneof(
  fc.tuple(page, userFields(2)).map(([p, s]) => `users${p} { ${s} }`),
  fc.tuple(page, postFields(2)).map(([p, s]) => `posts${p} { ${s} }`),
  fc.tuple(idArg, userFields(2)).map(([a, s]) => `user${a} { ${s} }`),
  fc.tuple(idArg, postFields(2)).map(([a, s]) => `post${a} { ${s} }`),
  userFields(1).map((s) => `me { ${s} }`),
  fc.constant('__schema { queryType { name } }')
)
const mutation = fc.oneof(
  fc.tuple(text, email).map(([n, e]) => `createUser(input: { name: ${JSON.stringify(n)}, email: ${JSON.stringify(e)} }) { id name }`),
  fc.tuple(id, text).map(([i, n]) => `updateUser(id: ${i}, input: { name: ${JSON.stringify(n)} }) { id }`),
  idArg.map((a) => `deleteUser${a}`),
  fc.tuple(text, text).map(([t, b]) => `createPost(input: { title: ${JSON.stringify(t)}, body: ${JSON.stringify(b)} }) { id author { id } }`)
)
// variables of any JSON type, for a document that declares them
const VARIABLES_DOC = 'query V($n: Int, $id: ID!) { users(limit: $n) { id } user(id: $id) { id name } }'
const anyJson = fc.jsonValue({ maxDepth: 2 })
const vars = fc.record({ n: fc.oneof(fc.integer({ min: 1, max: 100 }), anyJson), id: fc.oneof(fc.integer({ min: 1, max: 40 }).map(String), anyJson) }, { requiredKeys: [] })
const document = fc.oneof(
  fc.uniqueArray(query, { minLength: 1, maxLength: 2 }).map((q) => `query Q { ${q.join(' ')} }`),
  fc.uniqueArray(query, { minLength: 1, maxLength: 2 }).map((q) => `{ ${q.join(' ')} }`),
  mutation.map((m) => `mutation M { ${m} }`)
)
// the same documents broken: a slice cut out, random text spliced in
const broken = fc.tuple(document, fc.nat(), fc.nat({ max: 20 }), fc.string({ maxLength: 8 }))
  .map(([d, at, cut, junk]) => d.slice(0, at % d.length) + junk + d.slice((at % d.length) + cut))
const caller = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(undefined, token('1'), token('2'), token('1', ['admin'])) },
  { weight: 1, arbitrary: fc.constantFrom('not-a-jwt', token('1', [], -10)) })

const graphqlRequest = fc.oneof(
  { weight: 6, arbitrary: fc.record({ query: document, variables: fc.constant(undefined) }) },
  { weight: 2, arbitrary: fc.record({ query: fc.constant(VARIABLES_DOC), variables: fc.oneof(vars, anyJson) }) },
  { weight: 2, arbitrary: fc.record({ query: fc.oneof(broken, fc.string({ maxLength: 40 })), variables: fc.option(anyJson, { nil: undefined }) }) }
).chain((r) => fc.record({
  query: fc.constant(r.query),
  variables: fc.constant(r.variables as unknown),
  // mostly none (one operation per document); sometimes one that may not exist
  operationName: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('Q', 'M', 'V', 'Other', '') }),
  auth: caller,
  get: fc.boolean(),
  // current clients, legacy ones, none, anything, and one that accepts neither JSON type (406)
  accept: fc.constantFrom(MODERN_ACCEPT, GRAPHQL_RESPONSE, 'application/json', undefined, '*/*', 'text/html')
}))

// --- random bodies
const rawRequest = fc.record({
  body: fc.oneof(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v)))),
  contentType: fc.constantFrom('application/json', 'application/graphql', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined)
})

type Of<A> = A extends fc.Arbitrary<infer T> ? T : never

let sent = 0
const statuses = new Map<number, number>()
const codes = new Map<string, number>()
async function check (res: { statusCode: number, body: string }) {
  sent++
  statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
  for (const m of res.body.matchAll(/"code":"([A-Z_]+)"/g)) codes.set(m[1], (codes.get(m[1]) ?? 0) + 1)
  if (res.statusCode >= 500) throw new Error(`status ${res.statusCode}: ${res.body.slice(0, 300)}`)
  if (res.body.includes('INTERNAL_SERVER_ERROR')) throw new Error(`unexpected error: ${res.body.slice(0, 300)}`)
}

async function sendGraphql (r: Of<typeof graphqlRequest>) {
  const headers: Record<string, string> = r.auth ? { authorization: `Bearer ${r.auth}` } : {}
  if (r.accept) headers.accept = r.accept
  let res
  if (r.get) {
    // CSRF prevention: a GET carries the preflight-forcing header
    headers['mercurius-require-preflight'] = 'true'
    const qs = new URLSearchParams({ query: r.query, ...(r.variables !== undefined && { variables: JSON.stringify(r.variables) }), ...(r.operationName !== undefined && { operationName: r.operationName }) })
    res = await app.inject({ method: 'GET', url: `/graphql?${qs}`, headers })
  } else {
    res = await app.inject({ method: 'POST', url: '/graphql', headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify({ query: r.query, variables: r.variables, operationName: r.operationName }) })
  }
  await check(res)
  // the specification's MUST for application/graphql-response+json: no 2xx without `data`
  if (r.accept?.startsWith(GRAPHQL_RESPONSE)) {
    expect(res.headers['content-type']).toBe(`${GRAPHQL_RESPONSE}; charset=utf-8`)
    if (res.statusCode < 300 && !('data' in (res.json() as object))) throw new Error(`${res.statusCode} without data: ${res.body.slice(0, 300)}`)
  }
}

async function sendRaw (r: Of<typeof rawRequest>) {
  return check(await app.inject({ method: 'POST', url: '/graphql', headers: r.contentType ? { 'content-type': r.contentType } : {}, payload: r.body }))
}

function heapAfterGc (): number {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc(); gc()
  return process.memoryUsage().heapUsed
}

it('never answers 500 nor crashes, and keeps memory flat', async () => {
  const started = performance.now()
  const round = async (seed: number) => {
    await fc.assert(fc.asyncProperty(graphqlRequest, sendGraphql), { numRuns: 250, seed })
    await fc.assert(fc.asyncProperty(rawRequest, sendRaw), { numRuns: 80, seed })
  }
  await round(1) // warm-up: caches and compiled code reach their size
  const before = heapAfterGc()
  await round(2)
  await round(3)
  const growth = heapAfterGc() - before
  const health = await app.inject('/health')
  expect(health.statusCode).toBe(200)
  report('fuzz', { requests: sent, statuses: Object.fromEntries([...statuses].sort()), codes: Object.fromEntries([...codes].sort((a, b) => b[1] - a[1])), heapGrowthMb: +(growth / 1048576).toFixed(1), ms: Math.round(performance.now() - started) })
  // two more rounds (660 requests) after the warm-up may not keep more than a few MB
  expect(growth).toBeLessThan(16 * 1048576)
}, 60_000)

// What the fuzzer found, kept as fixed cases.
it.each([
  ['a JSON-encoded AST as the query text', { method: 'POST', payload: { query: '{}' } }, 400, 'GRAPHQL_PARSE_FAILED'],
  ['a JSON array as an application/graphql body', { method: 'POST', contentType: 'application/graphql', payload: '[]' }, 400, 'GRAPHQL_PARSE_FAILED'],
  ['a GET naming an operation the document lacks', { method: 'GET', url: '/graphql?query=query%20A%20%7B%20me%20%7B%20id%20%7D%20%7D&operationName=B' }, 400, 'GRAPHQL_VALIDATION_FAILED'],
  ['a GET with two operations and no name', { method: 'GET', url: '/graphql?query=query%20A%20%7B%20me%20%7B%20id%20%7D%20%7D%20query%20B%20%7B%20me%20%7B%20id%20%7D%20%7D' }, 400, 'GRAPHQL_VALIDATION_FAILED']
] as const)('answers %s with a code, not a 500', async (_name, r, status, code) => {
  const res = await app.inject({
    method: r.method,
    url: 'url' in r ? r.url : '/graphql',
    headers: { 'content-type': 'contentType' in r ? r.contentType : 'application/json', 'mercurius-require-preflight': 'true', accept: MODERN_ACCEPT },
    ...('payload' in r ? { payload: typeof r.payload === 'string' ? r.payload : JSON.stringify(r.payload) } : {})
  })
  expect(res.statusCode).toBe(status)
  expect(res.json().errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual([code])
})

it('refuses a post by a caller whose user was deleted, with UNAUTHENTICATED', async () => {
  const gone = token('3')
  const deleted = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', authorization: `Bearer ${token('3', ['admin'])}` }, payload: { query: 'mutation { deleteUser(id: "3") }' } })
  expect(deleted.json()).toEqual({ data: { deleteUser: true } })
  const res = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', authorization: `Bearer ${gone}` }, payload: { query: 'mutation { createPost(input: { title: "t", body: "b" }) { id } }' } })
  expect(res.json()).toMatchObject({ data: null, errors: [{ path: ['createPost'], extensions: { code: 'UNAUTHENTICATED' } }] })
})
