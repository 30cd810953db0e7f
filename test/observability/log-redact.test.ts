// The log formatter that hides credentials (src/observability/log-redact.ts), through a real pino
// logger with the app's options: what pino's redact paths hid before, it hides; a line without a
// credential is not copied.
import { expect, it } from 'vitest'
import { pino } from 'pino'
import { loggerOptions } from '../../src/logger.js'
import { redactLine } from '../../src/observability/log-redact.js'
import { testConfig } from '../helpers/app.js'

function logger () {
  const lines: Array<Record<string, unknown>> = []
  const raw: string[] = []
  const log = pino(loggerOptions(testConfig('postgres://unused/none', { LOG_LEVEL: 'info' })), {
    write (s: string) { raw.push(s); lines.push(JSON.parse(s) as Record<string, unknown>) }
  })
  return { log, lines, raw }
}

it('hides credential headers under headers, req.headers and res.headers, and keeps the others', () => {
  const { log, lines } = logger()
  const headers = { authorization: 'Bearer a-secret', cookie: 'c-secret', 'set-cookie': 's-secret', 'x-api-key': 'k-secret', accept: '*/*' }
  log.info({ headers, req: { method: 'GET', headers: { ...headers } }, res: { statusCode: 200, headers: { 'set-cookie': 's-secret', 'content-type': 'x' } } }, 'h')
  const hidden = { authorization: '[redacted]', cookie: '[redacted]', 'set-cookie': '[redacted]', 'x-api-key': '[redacted]', accept: '*/*' }
  expect(lines[0]).toMatchObject({ headers: hidden, req: { method: 'GET', headers: hidden }, res: { statusCode: 200, headers: { 'set-cookie': '[redacted]', 'content-type': 'x' } } })
  // the logged objects themselves are untouched
  expect(headers.authorization).toBe('Bearer a-secret')
})

it('hides password, token and secret in any top-level object, and in child bindings', () => {
  const { log, lines, raw } = logger()
  const user = { name: 'ada', password: 'p-secret', token: 't-secret', secret: 's-secret' }
  log.child({ session: { id: 1, token: 'b-secret' } }).info({ user, other: { keep: 1 } }, 'u')
  expect(lines[0]).toMatchObject({ session: { id: 1, token: '[redacted]' }, user: { name: 'ada', password: '[redacted]', token: '[redacted]', secret: '[redacted]' }, other: { keep: 1 } })
  expect(user.password).toBe('p-secret')
  for (const s of ['p-secret', 't-secret', 's-secret', 'b-secret']) expect(raw.join('')).not.toContain(s)
})

it('hides a credential on an error and keeps its message, type and stack', () => {
  const { log, lines } = logger()
  const err = Object.assign(new TypeError('boom'), { token: 'e-secret', code: 'E1' })
  log.error({ err }, 'failed')
  expect(lines[0].err).toMatchObject({ type: 'TypeError', message: 'boom', token: '[redacted]', code: 'E1', stack: expect.stringContaining('boom') })
})

it('hides credential headers in child bindings too', () => {
  const { log, raw } = logger()
  log.child({ headers: { authorization: 'Bearer bound-a-secret' }, req: { headers: { cookie: 'bound-c-secret' } } }).info('child')
  expect(raw).toHaveLength(1)
  for (const s of ['bound-a-secret', 'bound-c-secret']) expect(raw[0]).not.toContain(s)
})

it('drops a Redis command\'s arguments (an AUTH carries the password) from an error, its cause and its aggregated errors', () => {
  const { log, raw, lines } = logger()
  const redisError = () => Object.assign(new Error('WRONGPASS'), { command: { name: 'auth', args: ['user', 'pw-secret'] } })
  log.error({ err: redisError() }, 'top')
  log.error({ err: new Error('wrapped', { cause: redisError() }) }, 'cause')
  log.error({ err: new AggregateError([redisError()], 'all') }, 'aggregate')
  expect(raw.join('')).not.toContain('pw-secret')
  expect(lines[0].err).toMatchObject({ message: 'WRONGPASS', command: { name: 'auth' } })
})

it('returns the same object when nothing needs hiding (no copy per line)', () => {
  const line = { method: 'POST', route: '/graphql', statusCode: 200, nested: { a: 1 }, headers: { accept: '*/*' }, req: { headers: { host: 'x' } }, err: undefined }
  expect(redactLine(line)).toBe(line)
})
