// What the session-23 probe of the production build found in the logs, each a failing test until
// fixed: a Redis password written in clear on every failed AUTH (ioredis puts the AUTH arguments on
// the error it emits, err.command.args, and the app logs that error as is), and credential headers
// in a child logger's bindings, which pino's redact paths hid before the log formatter replaced them.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { pino } from 'pino'
import type { App } from '../../src/app.js'
import { loggerOptions } from '../../src/logger.js'
import { buildApp } from '../../src/server-options.js'
import { createTestDatabase, testConfig, type TestDatabase } from '../helpers/app.js'
import { describeWith, TEST_REDIS_URL } from '../helpers/services.js'

function capture (config = testConfig('postgres://unused/none', { LOG_LEVEL: 'info' })) {
  const raw: string[] = []
  const logger = pino(loggerOptions(config), { write (s: string) { raw.push(s) } })
  return { logger, raw }
}

describeWith('redis', 'a Redis that refuses the credentials', () => {
  let db: TestDatabase
  beforeAll(async () => { db = await createTestDatabase() })
  afterAll(async () => { await db?.drop() })

  it('never writes the Redis password into a log line', async () => {
    const password = `probe-pw-${randomBytes(6).toString('hex')}`
    // an ACL user that does not exist: Redis answers WRONGPASS whatever its own configuration
    const url = new URL(TEST_REDIS_URL!)
    url.username = `probe-nosuchuser-${randomBytes(3).toString('hex')}`
    url.password = password
    const config = testConfig(db.url, { LOG_LEVEL: 'info', REDIS_URL: url.toString(), REDIS_KEY_PREFIX: `test-probe23-${randomBytes(4).toString('hex')}:` })
    const { logger, raw } = capture(config)
    const app: App = await buildApp(config, { logger })
    try {
      await app.ready()
      await new Promise((resolve) => setTimeout(resolve, 500))
    } finally {
      await app.close()
    }
    // the refusal was logged (so the check below looked at the right lines)
    expect(raw.some((line) => line.includes('WRONGPASS'))).toBe(true)
    expect(raw.filter((line) => line.includes(password)), 'log lines holding the Redis password').toEqual([])
  })
})

it('hides credential headers in a child logger\'s bindings, as pino\'s redact paths did', () => {
  const { logger, raw } = capture()
  logger.child({ headers: { authorization: 'Bearer bound-a-secret' }, req: { headers: { cookie: 'bound-c-secret' } } }).info('child')
  expect(raw).toHaveLength(1)
  expect(raw[0]).not.toContain('bound-a-secret')
  expect(raw[0]).not.toContain('bound-c-secret')
})
