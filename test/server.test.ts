// The real process: SIGTERM while requests are in flight loses none of them and exits 0.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTestDatabase, JWT_SECRET, type TestDatabase } from './helpers/app.js'
import { startServer } from './helpers/child.js'

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

it('finishes in-flight requests on SIGTERM, then exits 0 within the grace period', async () => {
  const server = await startServer({
    // debug: the 'incoming request' line (info has one line per request, on completion)
    LOG_LEVEL: 'debug',
    NODE_ENV: 'test', DATABASE_URL: db.url, JWT_SECRET, SHUTDOWN_GRACE_MS: '10000',
    // 20 deliberately heavy requests (cost 8201 each): this test is about shutdown, not limits
    MAX_QUERY_COMPLEXITY: '0', RATE_LIMIT_POINTS: '0'
  })
  const query = '{ users(limit: 100) { id posts(limit: 20) { id author { id name } } } }'
  const requests = Array.from({ length: 20 }, () => fetch(`${server.url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query })
  }).then(async (res) => ({ status: res.status, users: ((await res.json()) as { data?: { users?: unknown[] } }).data?.users?.length })))
  // once the server has accepted every request, ask it to stop
  while (server.logs.filter((l) => l.msg === 'incoming request').length < 20) await new Promise((resolve) => setTimeout(resolve, 5))
  const signalled = Date.now()
  server.child.kill('SIGTERM')
  const results = await Promise.all(requests)
  expect(results).toEqual(Array.from({ length: 20 }, () => ({ status: 200, users: 100 })))
  const code = await server.exited
  expect(code).toBe(0)
  expect(Date.now() - signalled).toBeLessThan(10_000)
  expect(server.logs.some((l) => l.msg === 'stopped')).toBe(true)
  // and it no longer accepts connections
  await expect(fetch(`${server.url}/health`)).rejects.toThrow()
})
