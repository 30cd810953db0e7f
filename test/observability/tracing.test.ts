// Tracing for real: the server as a child process (src/instrument.ts loaded with --import, as
// `npm start` does, so pg, ioredis and http are patched as they load) exports to a local OTLP/HTTP
// receiver. One request under an incoming traceparent yields the HTTP span, the GraphQL operation
// span and PostgreSQL and Redis spans beneath it, its log lines carry the trace id, and an
// unexpected error reaches both the operation span and Sentry with that trace id. The posts
// table is renamed under the server, so the posts resolver fails with an error no code describes.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { inject } from 'vitest'
import pg from 'pg'
import { sha256 } from '../../src/graphql/persisted-queries.js'
import { createTestDatabase, JWT_SECRET, token, type TestDatabase } from '../helpers/app.js'
import { startServer, type ServerProcess } from '../helpers/child.js'
import { waitUntil } from '../helpers/faults.js'
import { deleteRedisKeys, describeWith, TEST_REDIS_URL } from '../helpers/services.js'
import { startReceiver, type ReceivedSpan, type Receiver } from './otlp-receiver.js'
import { startSentryRecorder, type SentryRecorder } from './sentry-recorder.js'

let db: TestDatabase
let receiver: Receiver
let sentry: SentryRecorder<{ tags?: Record<string, string> }>
const prefix = `test-otel-${randomBytes(4).toString('hex')}:`
const USERS = 'query Users { users(limit: 2) { id name } }'
const FAILING = 'query FailingPosts { posts(limit: 1) { id } }'
// the server compiles with tsx and loads the instrumentations: slow on a busy machine
const START_MS = 150_000

function env (extra: Record<string, string>) {
  return {
    NODE_ENV: 'test', DATABASE_URL: db.url, JWT_SECRET, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix,
    DATABASE_PREPARED_STATEMENTS: inject('templateDatabase') ? 'true' : 'false',
    // the batch processor's own variable: export within 100 ms instead of 5 s
    OTEL_BSP_SCHEDULE_DELAY: '100',
    ...extra
  }
}

async function post (server: ServerProcess, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) })
  const body = await res.json() as { data?: unknown, errors?: Array<{ path?: unknown[], extensions: { code: string } }> }
  return { status: res.status, data: body.data, errors: (body.errors ?? []).map((e) => ({ code: e.extensions.code, path: e.path })) }
}

async function stop (server: ServerProcess) {
  server.child.kill('SIGTERM')
  await server.exited
}

const traceparent = () => {
  const traceId = randomBytes(16).toString('hex')
  return { traceId, parent: randomBytes(8).toString('hex'), header: (t: string, p: string, flags = '01') => `00-${t}-${p}-${flags}` }
}

describeWith('redis', 'OpenTelemetry tracing', () => {
  beforeAll(async () => {
    db = await createTestDatabase()
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    await client.query('ALTER TABLE posts RENAME TO posts_renamed')
    await client.end()
    receiver = await startReceiver()
    sentry = await startSentryRecorder()
  })
  afterAll(async () => {
    await receiver?.close()
    sentry?.close()
    await deleteRedisKeys(prefix)
    await db?.drop()
  })

  it('one request: HTTP, GraphQL operation, PostgreSQL and Redis spans under the incoming trace id; logs and Sentry carry it', async () => {
    const server = await startServer(env({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'bastion-test', SENTRY_DSN: sentry.dsn }), START_MS)
    try {
      const t = traceparent()
      const res = await post(server, USERS, { traceparent: t.header(t.traceId, t.parent), 'x-request-id': 'traced-1' })
      expect(res).toEqual({ status: 200, data: { users: [{ id: '1', name: 'Ada Lovelace' }, { id: '2', name: 'Alan Lovelace' }] }, errors: [] })
      const mine = () => receiver.spans.filter((s) => s.traceId === t.traceId)
      const isDb = (s: ReceivedSpan, system: string) => s.attributes['db.system.name'] === system || s.attributes['db.system'] === system
      await waitUntil(() => mine().some((s) => s.kind === 2) && mine().some((s) => s.name === 'query Users'), 20_000)
      const spans = mine()
      // the HTTP server span (Fastify's request span) continues the caller's trace
      const http = spans.find((s) => s.kind === 2)!
      expect(http).toMatchObject({ scope: '@fastify/otel', name: 'POST /graphql', parentSpanId: t.parent, attributes: { 'http.request.method': 'POST', 'http.route': '/graphql', 'http.response.status_code': 200 } })
      expect(spans.filter((s) => s.kind === 2)).toHaveLength(1)
      // and no other span of @fastify/otel (no `handler - ...` span, none per hook)
      expect(spans.filter((s) => s.scope === '@fastify/otel')).toHaveLength(1)
      const op = spans.find((s) => s.name === 'query Users')!
      expect(op.attributes).toMatchObject({
        'graphql.operation.type': 'query', 'graphql.operation.name': 'Users', 'graphql.document.hash': sha256(USERS), 'graphql.operation.cost': expect.any(Number)
      })
      // the resolver's Redis (cache) and PostgreSQL calls are the operation's children; no span per field
      expect(spans.filter((s) => s.parentSpanId === op.spanId && isDb(s, 'postgresql')).length).toBeGreaterThanOrEqual(1)
      expect(spans.filter((s) => s.parentSpanId === op.spanId && isDb(s, 'redis')).length).toBeGreaterThanOrEqual(1)
      expect(spans.filter((s) => s.scope === 'bastion-graphql')).toHaveLength(1)
      // every log line of the request carries the trace
      const lines = server.logs.filter((l) => l.reqId === 'traced-1')
      expect(lines.length).toBeGreaterThanOrEqual(1)
      for (const line of lines) expect(line).toMatchObject({ trace_id: t.traceId, span_id: expect.stringMatching(/^[0-9a-f]{16}$/), trace_sampled: true })

      // an unexpected error: recorded on the operation span, and the Sentry event names the trace
      const t2 = traceparent()
      expect(await post(server, FAILING, { traceparent: t2.header(t2.traceId, t2.parent), 'x-request-id': 'traced-2' }))
        .toEqual({ status: 200, data: null, errors: [{ code: 'INTERNAL_SERVER_ERROR', path: ['posts'] }] })
      await waitUntil(() => receiver.spans.some((s) => s.traceId === t2.traceId && s.name === 'query FailingPosts') && sentry.events.some((e) => e.tags?.request_id === 'traced-2'), 20_000)
      const failing = receiver.spans.find((s) => s.traceId === t2.traceId && s.name === 'query FailingPosts')!
      expect(failing.status?.code).toBe(2)
      expect(failing.events.map((e) => e.name)).toContain('exception')
      expect(failing.attributes['graphql.error.codes']).toEqual(['INTERNAL_SERVER_ERROR'])
      const event = sentry.events.find((e) => e.tags?.request_id === 'traced-2')!
      expect(event.tags?.trace_id).toBe(t2.traceId)
      expect(server.logs.find((l) => l.reqId === 'traced-2' && l.msg === 'unexpected error')).toMatchObject({ trace_id: t2.traceId })

      // an Idempotency-Key write sends its values as literals in one simple query: its span keeps
      // the statement, never the values
      const secret = `literal-${randomBytes(4).toString('hex')}`
      const t3 = traceparent()
      const created = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token('1', ['admin'])}`, 'idempotency-key': secret, traceparent: t3.header(t3.traceId, t3.parent) },
        body: JSON.stringify({ query: `mutation CreateTraced { createUser(input: { name: "${secret}", email: "${secret}@example.com" }) { id } }` })
      })
      expect(created.status).toBe(200)
      expect(((await created.json()) as { errors?: unknown }).errors).toBeUndefined()
      await waitUntil(() => receiver.spans.some((s) => s.traceId === t3.traceId && s.name === 'mutation CreateTraced'), 20_000)
      const written = receiver.spans.filter((s) => s.traceId === t3.traceId && isDb(s, 'postgresql'))
      expect(written.map((s) => s.attributes['db.query.text'] ?? s.attributes['db.statement']).join('\n')).toContain('idempotency_claim')
      expect(JSON.stringify(receiver.spans.filter((s) => s.traceId === t3.traceId))).not.toContain(secret)
    } finally {
      await stop(server)
    }
  }, 240_000)

  it('sampler ratio 0: no spans at all, and the requests are served', async () => {
    const before = receiver.requests
    const server = await startServer(env({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }), START_MS)
    try {
      for (let i = 0; i < 5; i++) expect((await post(server, USERS, { 'x-request-id': `unsampled-${i}` })).status).toBe(200)
      // well past the 100 ms export delay
      await new Promise((resolve) => setTimeout(resolve, 1500))
      expect(receiver.requests).toBe(before)
      // the logs still carry the ids (lines join across services), marked as not in the backend
      const lines = server.logs.filter((l) => String(l.reqId).startsWith('unsampled-'))
      expect(lines.length).toBeGreaterThanOrEqual(5)
      for (const line of lines) expect(line).toMatchObject({ trace_id: expect.stringMatching(/^[0-9a-f]{32}$/), span_id: expect.stringMatching(/^[0-9a-f]{16}$/), trace_sampled: false })
    } finally {
      await stop(server)
    }
  }, 240_000)

  it('http/protobuf reaches the receiver; with the receiver down requests are unaffected', async () => {
    const proto = await startReceiver()
    const server = await startServer(env({ OTEL_EXPORTER_OTLP_ENDPOINT: proto.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }), START_MS)
    try {
      const t = traceparent()
      expect((await post(server, USERS, { traceparent: t.header(t.traceId, t.parent) })).status).toBe(200)
      // the binary trace id is in the protobuf export
      await waitUntil(() => proto.protobuf.some((b) => b.includes(Buffer.from(t.traceId, 'hex'))), 20_000)
      await proto.close()
      // nothing listens on the collector's port now: exports fail, requests do not
      for (let i = 0; i < 10; i++) {
        expect(await post(server, USERS)).toEqual({ status: 200, data: { users: [{ id: '1', name: 'Ada Lovelace' }, { id: '2', name: 'Alan Lovelace' }] }, errors: [] })
      }
    } finally {
      await stop(server)
      await proto.close()
    }
  }, 240_000)
})
