// A Redis that refuses the credentials: ioredis puts the AUTH arguments on the error it emits
// (err.command.args), and the app logs that error; the password must not reach the line. Credential
// headers in a child logger's bindings are tested with the log formatter
// (test/observability/log-redact.test.ts).
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { pino } from 'pino'
import type { App } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import { loggerOptions } from '../../src/logger.js'
import { buildApp } from '../../src/server-options.js'
import { createTestDatabase, testConfig, type TestDatabase } from '../helpers/app.js'
import { waitUntil } from '../helpers/faults.js'
import { describeWith, TEST_REDIS_URL } from '../helpers/services.js'

function capture (config: Config) {
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
      // the refusal is logged (so the check below looks at the right lines)
      await waitUntil(() => raw.some((line) => line.includes('WRONGPASS')), 10_000)
    } finally {
      await app.close()
    }
    expect(raw.filter((line) => line.includes(password)), 'log lines holding the Redis password').toEqual([])
  })
})
