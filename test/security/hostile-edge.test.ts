// The hostile-input pack at the edge: bodies and names that must be refused before the expensive
// work, errors outside GraphQL in one shape with our own words, and what Node's HTTP parser
// refuses. One line per attack in CASES (the style of hostile.test.ts); the rest below.
import { connect } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { expect, it } from 'vitest'
import { ERRORS } from '../../src/error-codes.js'
import { JSON_MAX_DEPTH } from '../../src/plugins/errors.js'
import { NAME_MAX } from '../../src/request-bounds.js'
import { useLoggedApp } from './helpers.js'

interface Request { method?: 'GET' | 'POST' | 'PUT', url?: string, headers?: Record<string, string>, body?: string }
type Case = [name: string, request: Request, status: number, codes: string[], limit?: string]

const KB = 1024
const post = (payload: unknown): Request => ({ body: JSON.stringify(payload) })
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
const long = (n: number) => 'A'.repeat(n)
const get = (params: Record<string, string>): Request =>
  ({ method: 'GET', url: `/graphql?${new URLSearchParams(params).toString()}`, headers: { 'mercurius-require-preflight': '1' } })

export const CASES: Case[] = [
  // bodies
  ['a 450,000-deep JSON array in an unused variable', { body: `{"query":"{ me { id } }","variables":{"unused":${nested(450_000)}}}` }, 400, ['QUERY_TOO_LARGE'], 'jsonDepth'],
  ['JSON nested just past the limit', { body: `{"query":"{ me { id } }","variables":{"unused":${nested(JSON_MAX_DEPTH)}}}` }, 400, ['QUERY_TOO_LARGE'], 'jsonDepth'],
  ['JSON nested within the limit', { body: `{"query":"{ me { id } }","variables":{"unused":${nested(JSON_MAX_DEPTH - 2)}}}` }, 200, []],
  ['brackets inside a JSON string do not nest', { body: JSON.stringify({ query: `{ me { id } } # ${'['.repeat(10_000)}` }) }, 200, []],
  // names
  ['a 900 KB unknown field name', post({ query: `{ ${'f'.repeat(900 * KB)} }` }), 400, ['QUERY_TOO_LARGE'], 'name'],
  ['a 900 KB operationName', post({ query: '{ me { id } }', operationName: long(900 * KB) }), 400, ['QUERY_TOO_LARGE'], 'operationName'],
  ['a 900 KB operation name in the document', post({ query: `query ${long(900 * KB)} { me { id } }` }), 400, ['QUERY_TOO_LARGE'], 'name'],
  ['a long alias', post({ query: `{ ${long(NAME_MAX + 1)}: me { id } }` }), 400, ['QUERY_TOO_LARGE'], 'name'],
  ['a name at the limit', post({ query: `query ${long(NAME_MAX)} { me { id } }` }), 200, []],
  ['a long run inside a comment is no name', post({ query: `{ me { id } } # ${long(10 * KB)}` }), 200, []],
  ['a long run inside a string is no name', post({ query: `{ user(id: "${'9'.repeat(10 * KB)}") { id } }` }), 200, ['BAD_USER_INPUT']],
  ['a long operationName in a batch', { body: JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }', operationName: long(NAME_MAX + 1) }]) }, 400, ['QUERY_TOO_LARGE'], 'operationName'],
  ['a long operationName over GET', get({ query: '{ me { id } }', operationName: long(8 * KB) }), 400, ['QUERY_TOO_LARGE'], 'operationName'],
  ['a long field name over GET', get({ query: `{ ${long(8 * KB)} }` }), 400, ['QUERY_TOO_LARGE'], 'name'],
  // library texts replaced by ours (the message is checked below)
  ['operationName of the wrong type', { body: '{"query":"{ me { id } }","operationName":{"a":1}}' }, 400, ['BAD_USER_INPUT']],
  ['too many tokens', post({ query: `{ ${'a '.repeat(3000)}}` }), 400, ['QUERY_TOO_LARGE'], 'tokens'],
  // errors outside GraphQL
  ['an unknown route', { url: '/x' }, 404, ['NOT_FOUND']],
  ['an unknown method on /graphql', { method: 'PUT' }, 404, ['NOT_FOUND']],
  ['bad JSON on an unknown route', { url: '/x', body: '{bad' }, 400, ['BAD_USER_INPUT']],
  ['a deep JSON body on an unknown route', { url: '/x', body: nested(450_000) }, 400, ['QUERY_TOO_LARGE'], 'jsonDepth'],
  ['a body over the limit on an unknown route', { url: '/x', body: JSON.stringify({ a: 'x'.repeat(1024 * KB) }) }, 413, ['QUERY_TOO_LARGE'], 'body'],
  ['a long path and user agent on an unknown route', { url: `/x${'p'.repeat(4 * KB)}`, headers: { 'user-agent': 'u'.repeat(4 * KB) } }, 404, ['NOT_FOUND']],
  ['a wrong content type', { headers: { 'content-type': 'application/xml', 'mercurius-require-preflight': '1' }, body: '<a/>' }, 415, ['BAD_USER_INPUT']]
]

// wording of Fastify, Mercurius and graphql that must not reach a client
const LIBRARY_TEXT = /body\/|must be (string|object)|more that|Route [A-Z]+:|Unsupported Media Type|FST_|Body cannot be empty|Unexpected token/

// shedding has its own tests (test/resilience/pressure.test.ts): a busy machine must not shed these
const t = useLoggedApp({ PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0' })

function inject (r: Request) {
  const method = r.method ?? 'POST'
  return t.app.inject({
    method,
    url: r.url ?? '/graphql',
    // the current GraphQL-over-HTTP media type: request errors are 4xx (docs/http.md)
    headers: { accept: 'application/graphql-response+json', ...(r.body === undefined ? {} : { 'content-type': 'application/json' }), ...r.headers },
    ...(r.body !== undefined ? { payload: r.body } : {})
  })
}

it.each(CASES)('%s', async (_, request, status, codes, limit) => {
  const res = await inject(request)
  const body = res.json() as { errors?: Array<{ message: string, extensions: { code: string, limit?: string } }> }
  const seen = [...new Set((body.errors ?? []).map((e) => e.extensions.code))].sort()
  expect({ status: res.statusCode, codes: seen }).toEqual({ status, codes: [...codes].sort() })
  for (const code of seen) expect(Object.keys(ERRORS)).toContain(code)
  if (limit) expect(body.errors![0].extensions.limit).toBe(limit)
  // nothing a client sent comes back whole, and no library speaks
  expect(res.body.length).toBeLessThan(4 * KB)
  for (const e of body.errors ?? []) expect(e.message).not.toMatch(LIBRARY_TEXT)
  // errors outside GraphQL carry the request id of the response
  if (request.url?.startsWith('/x') || request.method === 'PUT') expect(body.errors![0].extensions).toMatchObject({ requestId: res.headers['x-request-id'] })
  expect(res.headers['x-content-type-options']).toBe('nosniff')
  expect((await t.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
})

it.each([
  ['too long', 'r'.repeat(129)],
  ['with a newline', 'abc\ninjected'],
  ['with a space', 'abc def']
])('replaces an incoming request id %s with one of its own', async (_, id) => {
  const res = await t.app.inject({ method: 'GET', url: '/x', headers: { 'x-request-id': id } })
  expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  expect(res.json().errors[0].extensions.requestId).toBe(res.headers['x-request-id'])
})

it('keeps every log line bounded, whatever the requests above carried', () => {
  expect(t.logs.length).toBeGreaterThan(CASES.length)
  const longest = Math.max(...t.logs.map((l) => JSON.stringify(l).length))
  expect(longest).toBeLessThan(4 * KB)
})

it('45 anonymous requests with 900 KB operation names leave /metrics small and answering, and the log bounded', async () => {
  const before = t.logs.length
  const name = (i: number) => `${'N'.repeat(900 * KB - 3)}${String(i).padStart(3, '0')}`
  const started = performance.now()
  for (let i = 0; i < 45; i++) {
    // as the request's operationName, and as the name of the operation in the document
    const payload = i % 2 === 0 ? { query: '{ me { id } }', operationName: name(i) } : { query: `query ${name(i)} { me { id } }` }
    const res = await inject(post(payload))
    expect({ status: res.statusCode, code: res.json().errors[0].extensions.code }).toEqual({ status: 400, code: 'QUERY_TOO_LARGE' })
  }
  const perRequestMs = (performance.now() - started) / 45
  const metrics = await t.app.inject({ method: 'GET', url: '/metrics' })
  expect(metrics.statusCode).toBe(200)
  expect(metrics.body).not.toMatch(/N{101}/)
  expect(metrics.body.length).toBeLessThan(256 * KB)
  const lines = t.logs.slice(before).map((l) => JSON.stringify(l))
  expect(lines.length).toBeGreaterThanOrEqual(45)
  expect(lines.join('\n').length).toBeLessThan(45 * 2 * KB)
  process.stdout.write(`[security] 45 x 900 KB operation names: 400 QUERY_TOO_LARGE each, ${perRequestMs.toFixed(1)} ms per request; /metrics ${metrics.statusCode}, ${metrics.body.length} bytes; log ${lines.length} lines, ${lines.join('\n').length} bytes\n`)
})

it('an operation name up to the limit reaches logs and labels, still bounded by METRICS_OPERATION_NAMES_MAX', async () => {
  for (let i = 0; i < 3; i++) expect((await inject(post({ query: `query ${'L'.repeat(NAME_MAX - 1)}${i} { me { id } }` }))).statusCode).toBe(200)
  const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body
  const labels = [...text.matchAll(/operation_name="([^"]*)"/g)].map((m) => m[1])
  expect(labels.length).toBeGreaterThan(0)
  for (const label of labels) expect(label.length).toBeLessThanOrEqual(NAME_MAX + 3)
})

/** raw bytes to a listening app; what comes back before the server closes the connection */
async function raw (bytes: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { received += chunk })
    socket.on('close', () => resolve(received))
    socket.on('error', reject)
    socket.write(bytes)
  })
}

/** status line, headers and JSON body of a raw HTTP answer */
function parseAnswer (answer: string) {
  const [head, body] = answer.split('\r\n\r\n')
  const [statusLine, ...lines] = head.split('\r\n')
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 2)]))
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) as unknown }
}

async function listening (): Promise<number> {
  if (!t.app.server.listening) await t.app.listen({ port: 0, host: '127.0.0.1' })
  return (t.app.server.address() as AddressInfo).port
}

function expectEdgeAnswer (answer: string, status: number, code: string, limit?: string) {
  const { status: got, headers, body } = parseAnswer(answer)
  expect(got).toBe(status)
  expect(headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'strict-transport-security': expect.any(String), 'content-security-policy': expect.any(String) })
  const requestId = headers['x-request-id']
  expect(body).toEqual({ errors: [{ message: expect.any(String), extensions: { code, requestId, ...(limit && { limit }) } }] })
  expect(t.logs.filter((l) => l.reqId === requestId).map((l) => ({ statusCode: l.statusCode, code: l.code }))).toEqual([{ statusCode: status, code }])
}

it.each([
  ['a malformed request line', 'GARBAGE\r\n\r\n', 400, 'BAD_USER_INPUT', undefined],
  ['a bare LF in the headers', 'GET /health HTTP/1.1\nhost: x\n\n', 400, 'BAD_USER_INPUT', undefined],
  ['headers over the limit', `GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20 * KB)}\r\n\r\n`, 431, 'QUERY_TOO_LARGE', 'headers']
])('answers what Node\'s parser refuses (%s) with headers, a request id, the body and a log line', async (_, bytes, status, code, limit) => {
  expectEdgeAnswer(await raw(bytes, await listening()), status, code, limit)
})

it('answers a request that took longer than requestTimeout (408) the same way', async () => {
  const port = await listening()
  // Node checks requestTimeout every 30 s: the test raises the same clientError event Node does
  const accepted = new Promise<Socket>((resolve) => t.app.server.once('connection', resolve))
  const answer = raw('POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{', port)
  const socket = await accepted
  t.app.server.emit('clientError', Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket)
  expectEdgeAnswer(await answer, 408, 'TIMEOUT')
})

it('logs and counts a client that hangs up mid-body as a client abort, not as a server failure', async () => {
  const port = await listening()
  const before = t.logs.length
  const socket = connect(port, '127.0.0.1')
  socket.write('POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-request-id: hangs-up\r\ncontent-length: 1000\r\n\r\n{"query":')
  await new Promise((resolve) => setTimeout(resolve, 200))
  socket.destroy()
  await expect.poll(() => t.logs.slice(before).some((l) => l.event === 'client_aborted')).toBe(true)
  const lines = t.logs.slice(before)
  expect(lines.filter((l) => l.reqId === 'hangs-up').map((l) => ({ event: l.event, route: l.route }))).toEqual([{ event: 'client_aborted', route: '/graphql' }])
  expect(lines.filter((l) => l.msg === 'database failure' || l.msg === 'malformed request refused')).toEqual([])
  const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body
  expect(text).toMatch(/^http_client_aborts_total 1$/m)
  expect(text).toMatch(/^graphql_errors_total\{code="SERVICE_UNAVAILABLE"\} 0$/m)
})
