// Sentry for real: the server as a child process (src/instrument.ts loaded with --import, as
// `npm start` does) sends to a local HTTP server standing in for Sentry, which records every
// envelope. The unexpected error is real too: the database's posts table was renamed under the
// server, so the posts resolver fails with an error no code describes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { createTestDatabase, JWT_SECRET, token, type TestDatabase } from '../helpers/app.js'
import { startServer, type ServerProcess } from '../helpers/child.js'
import { startSentryRecorder, type SentryRecorder } from './sentry-recorder.js'

interface SentryEvent { event_id: string, tags?: Record<string, string>, user?: { id?: string }, exception?: { values: Array<{ type: string }> }, request?: { headers?: Record<string, string>, data?: unknown } }

let db: TestDatabase
let recorder: SentryRecorder<SentryEvent>

// renames a table: needs a database of its own (the embedded one is shared by the whole run)
describe('Sentry', () => {
  beforeAll(async () => {
    db = await createTestDatabase()
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    await client.query('ALTER TABLE posts RENAME TO posts_renamed')
    await client.end()
    recorder = await startSentryRecorder<SentryEvent>()
  })
  afterAll(async () => {
    recorder?.close()
    await db?.drop()
  })

  function env (extra: Record<string, string>) {
    return { NODE_ENV: 'test', DATABASE_URL: db.url, JWT_SECRET, ...extra }
  }

  async function post (server: ServerProcess, query: string, requestId: string, jwt?: string) {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
      body: JSON.stringify({ query })
    })
    const body = await res.json() as { errors?: Array<{ path?: unknown[], extensions: { code: string } }> }
    return { status: res.status, errors: (body.errors ?? []).map((e) => ({ code: e.extensions.code, path: e.path })) }
  }

  async function until (what: string, ok: () => boolean, ms = 20_000) {
    for (const end = Date.now() + ms; !ok(); await new Promise((resolve) => setTimeout(resolve, 50))) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    }
  }

  const FAILING = 'query FailingPosts { posts(limit: 1) { id } }'
  // each test starts the real server (tsx compiles it): seconds, more on a busy machine

  it('sends one event per unexpected error, tagged with request id, operation and subject; none for BAD_USER_INPUT', async () => {
    const server = await startServer(env({ SENTRY_DSN: recorder.dsn }))
    try {
      const jwt = token('7')
      expect(await post(server, FAILING, 'sentry-unexpected-1', jwt)).toEqual({ status: 200, errors: [{ code: 'INTERNAL_SERVER_ERROR', path: ['posts'] }] })
      expect(await post(server, '{ users(limit: 1000) { id } }', 'sentry-bad-input')).toEqual({ status: 200, errors: [{ code: 'BAD_USER_INPUT', path: ['users'] }] })
      // a second unexpected error after the BAD_USER_INPUT: once it has arrived, anything sent for the one before would have too
      await post(server, FAILING, 'sentry-unexpected-2')
      await until('the second event', () => recorder.events.some((e) => e.tags?.request_id === 'sentry-unexpected-2'))
      expect(recorder.events.map((e) => e.tags?.request_id).sort()).toEqual(['sentry-unexpected-1', 'sentry-unexpected-2'])
      const first = recorder.events.find((e) => e.tags?.request_id === 'sentry-unexpected-1')!
      expect(first.tags).toMatchObject({ request_id: 'sentry-unexpected-1', operation_name: 'FailingPosts', operation_type: 'query', subject: '7' })
      expect(first.user).toEqual({ id: '7' })
      expect(first.exception?.values.length).toBeGreaterThanOrEqual(1)
      // the credential never leaves the process
      expect(recorder.envelopes.join('\n')).not.toContain(jwt)
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
    }
  }, 90_000)

  it('sends nothing without SENTRY_DSN', async () => {
    const before = recorder.envelopes.length
    const server = await startServer(env({}))
    try {
      expect(await post(server, FAILING, 'no-dsn-1')).toEqual({ status: 200, errors: [{ code: 'INTERNAL_SERVER_ERROR', path: ['posts'] }] })
      // the server logged the error (so it was unexpected); give a send the time it took above
      await until('the error log line', () => server.logs.some((l) => l.msg === 'unexpected error' && l.reqId === 'no-dsn-1'))
      await new Promise((resolve) => setTimeout(resolve, 1000))
      expect(recorder.envelopes.length).toBe(before)
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
    }
  }, 90_000)
})
