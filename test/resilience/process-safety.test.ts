// Process safety, on the real server as a child process: an uncaught exception or an unhandled
// rejection is logged (fatal, with its stack and origin), reported to error tracking (a Sentry
// DSN pointing at a recorder of the test's own), and ends the process through the graceful path
// with exit code 1, never a silent hang.
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTestDatabase, JWT_SECRET, type TestDatabase } from '../helpers/app.js'
import { startServer } from '../helpers/child.js'
import { report } from '../helpers/faults.js'

let db: TestDatabase
let sentry: Server
let dsn: string
const events: Array<{ exception?: { values?: Array<{ type: string, value: string }> } }> = []

beforeAll(async () => {
  db = await createTestDatabase()
  // a stand-in for Sentry: records the event items of every envelope
  sentry = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let body = Buffer.concat(chunks)
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
      const lines = body.toString().split('\n')
      for (let i = 1; i + 1 < lines.length; i += 2) {
        if ((JSON.parse(lines[i]) as { type?: string }).type === 'event') events.push(JSON.parse(lines[i + 1]))
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  sentry.listen(0, '127.0.0.1')
  await once(sentry, 'listening')
  dsn = `http://public@127.0.0.1:${(sentry.address() as { port: number }).port}/1`
})
afterAll(async () => {
  sentry?.close()
  await db?.drop()
})

async function crash (kind: 'exception' | 'rejection') {
  // Sentry first, as `npm start` loads it (a second --import of the same module is a no-op)
  const server = await startServer({
    NODE_ENV: 'test', DATABASE_URL: db.url, JWT_SECRET, SENTRY_DSN: dsn, CRASH_KIND: kind, SHUTDOWN_GRACE_MS: '10000'
  }, 60_000, ['--import', './src/instrument.ts', '--import', './test/helpers/crash-preload.ts'])
  expect((await fetch(`${server.url}/health`)).status).toBe(200)
  const started = Date.now()
  server.child.kill('SIGWINCH')
  const code = await server.exited
  return { code, ms: Date.now() - started, logs: server.logs }
}

it('logs, reports and stops gracefully on an uncaught exception and on an unhandled rejection', async () => {
  const [exception, rejection] = await Promise.all([crash('exception'), crash('rejection')])
  for (const [run, origin, message] of [
    [exception, 'uncaughtException', 'boom: uncaught exception'],
    [rejection, 'unhandledRejection', 'boom: unhandled rejection']
  ] as const) {
    expect(run.code).toBe(1)
    expect(run.ms).toBeLessThan(10_000)
    const fatal = run.logs.find((l) => l.msg === 'fatal error, shutting down') as { level: number, origin: string, err: { message: string, stack: string } } | undefined
    expect(fatal).toMatchObject({ level: 60, origin, err: { message } })
    expect(fatal!.err.stack).toMatch(/crash-preload/)
    // the graceful path: the app closed (pool, Redis) before the exit
    expect(run.logs.some((l) => l.msg === 'stopped')).toBe(true)
  }
  // reported once each (Sentry's own handlers and ours agree on one event)
  const reported = events.map((e) => e.exception?.values?.at(-1)?.value).sort()
  expect(reported).toEqual(['boom: uncaught exception', 'boom: unhandled rejection'])
  report('process safety', { exceptionExit: exception.code, exceptionStoppedInMs: exception.ms, rejectionExit: rejection.code, rejectionStoppedInMs: rejection.ms, sentryEvents: events.length })
}, 60_000)
