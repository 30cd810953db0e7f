// Logs as an operator reads them: one JSON line per request with the fields to search by, probes
// and scrapes silent at info, credentials never written, slow statements and operations at warn.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { pino } from 'pino'
import type { App } from '../../src/app.js'
import { buildApp } from '../../src/server-options.js'
import { loggerOptions } from '../../src/logger.js'
import { createTestDatabase, gql, testConfig, token, type TestDatabase } from '../helpers/app.js'

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

type Line = Record<string, unknown>

/** a real app whose pino logger writes into `lines` (raw text kept too, for leak checks) */
async function appWithLogs (env: Record<string, string> = {}) {
  const lines: Line[] = []
  const raw: string[] = []
  const config = testConfig(db.url, { LOG_LEVEL: 'info', ...env })
  const logger = pino(loggerOptions(config), { write (s: string) { raw.push(s); lines.push(JSON.parse(s) as Line) } })
  const app: App = await buildApp(config, { logger })
  await app.ready()
  return { app, lines, raw, of: (id: string) => lines.filter((l) => l.reqId === id) }
}

it('writes exactly one line per request, with request id, route, status, duration, operation and subject', async () => {
  const { app, of } = await appWithLogs()
  try {
    const res = await gql(app, 'query ListUsers { users(limit: 1) { id } }', { token: token('1'), headers: { 'x-request-id': 'trace-abc.1' } })
    expect(res.statusCode).toBe(200)
    expect(of('trace-abc.1')).toEqual([{
      level: 30, time: expect.any(Number), pid: process.pid, hostname: expect.any(String), reqId: 'trace-abc.1',
      method: 'POST', route: '/graphql', statusCode: 200, durationMs: expect.any(Number),
      operationName: 'ListUsers', operationType: 'query', sub: '1', msg: 'request completed'
    }])
    // an unknown route: the pattern is "unmatched", the path is kept without its query string
    await app.inject({ url: '/nope?token=abc', headers: { 'x-request-id': 'r-404' } })
    expect(of('r-404')).toEqual([expect.objectContaining({ route: 'unmatched', path: '/nope', statusCode: 404, msg: 'request completed' })])
    // probes and scrapes are not logged at info
    for (const url of ['/health', '/ready', '/metrics']) await app.inject({ url, headers: { 'x-request-id': `probe-${url.slice(1)}` } })
    expect([...of('probe-health'), ...of('probe-ready'), ...of('probe-metrics')]).toEqual([])
    // ...but a failing readiness check is (at warn)
    app.lifecycle.draining = true
    await app.inject({ url: '/ready', headers: { 'x-request-id': 'probe-draining' } })
    app.lifecycle.draining = false
    expect(of('probe-draining')).toEqual([expect.objectContaining({ level: 40, route: '/ready', statusCode: 503, msg: 'request completed' })])
  } finally {
    await app.close()
  }
})

it('writes nothing per request below its level', async () => {
  const { app, lines } = await appWithLogs({ LOG_LEVEL: 'warn' })
  try {
    await gql(app, '{ users(limit: 1) { id } }')
    await app.inject('/nope')
    expect(lines).toEqual([])
  } finally {
    await app.close()
  }
})

it('redacts credentials: headers, and GraphQL variables named like passwords, tokens or secrets', async () => {
  const { app, raw, of } = await appWithLogs({ LOG_LEVEL: 'debug', SLOW_OPERATION_MS: '0' })
  try {
    const jwt = token('1')
    const variables = { limit: 1, password: 'hunter2-secret', apiToken: 'tok-secret', nested: { clientSecret: 'nested-secret', list: [{ Authorization: 'auth-secret' }] }, keep: 'visible', pwd: 'pwd-secret', jwt: 'jwt-secret', auth: 'auth2-secret', bearer: 'bearer-secret', sessionId: 'session-secret', authorId: '7' }
    const res = await gql(app, 'query Q($limit: Int) { users(limit: $limit) { id } }', {
      token: jwt, variables, headers: { cookie: 'session=cookie-secret', 'x-request-id': 'redact-1' }
    })
    expect(res.statusCode).toBe(200)
    const slow = of('redact-1').filter((l) => l.msg === 'slow graphql operation')
    expect(slow).toEqual([expect.objectContaining({
      level: 40, operationName: 'Q', operationType: 'query', outcome: 'success', durationMs: expect.any(Number),
      variables: { limit: 1, password: '[redacted]', apiToken: '[redacted]', nested: { clientSecret: '[redacted]', list: [{ Authorization: '[redacted]' }] }, keep: 'visible', pwd: '[redacted]', jwt: '[redacted]', auth: '[redacted]', bearer: '[redacted]', sessionId: '[redacted]', authorId: '7' }
    })])
    // a line that logs headers (a plugin, a debugging session) has them redacted by path
    app.log.info({ headers: { authorization: `Bearer ${jwt}`, cookie: 'a=cookie-secret', 'set-cookie': 'b=cookie-secret', accept: '*/*' } }, 'headers')
    expect(JSON.parse(raw.at(-1)!)).toMatchObject({ headers: { authorization: '[redacted]', cookie: '[redacted]', 'set-cookie': '[redacted]', accept: '*/*' } })
    const all = raw.join('')
    for (const secret of [jwt, 'cookie-secret', 'hunter2-secret', 'tok-secret', 'nested-secret', 'auth-secret', 'pwd-secret', 'jwt-secret', 'auth2-secret', 'bearer-secret', 'session-secret']) expect(all).not.toContain(secret)
  } finally {
    await app.close()
  }
})

it('logs a database statement slower than SLOW_QUERY_MS at warn, with its SQL and without its values', async () => {
  const { app, lines } = await appWithLogs({ SLOW_QUERY_MS: '150' })
  try {
    await gql(app, '{ users(limit: 5) { id posts(limit: 2) { id } } }')
    expect(lines.filter((l) => l.msg === 'slow database statement')).toEqual([])
    await app.db.query('slow_probe', 'SELECT pg_sleep($1::float8 + 0 * length($2))', [0.25, 'parameter-value'])
    const slow = lines.filter((l) => l.msg === 'slow database statement')
    expect(slow).toEqual([expect.objectContaining({ level: 40, statement: 'slow_probe', sql: 'SELECT pg_sleep($1::float8 + 0 * length($2))', durationMs: expect.any(Number) })])
    expect(slow[0].durationMs).toBeGreaterThanOrEqual(150)
    expect(JSON.stringify(slow)).not.toContain('parameter-value')
  } finally {
    await app.close()
  }
})
