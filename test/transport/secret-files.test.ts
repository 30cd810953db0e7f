// Secrets from files (the Docker and Kubernetes secrets convention): a server configured only
// through DATABASE_URL_FILE, REDIS_URL_FILE, JWT_SECRET_FILE and METRICS_TOKEN_FILE uses them all.
// Files end with a newline, as `echo ... > file` and most secret tools write them.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { buildApp } from '../../src/server-options.js'
import { signToken } from '../../src/auth/jwt.js'
import { loadConfig } from '../../src/config.js'
import { createTestDatabase, gql, token, type TestDatabase } from '../helpers/app.js'
import { describeWith, TEST_REDIS_URL } from '../helpers/services.js'
import { redisPrefixes } from '../helpers/redis-prefixes.js'

describeWith('redis', 'secrets read from *_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-secrets-'))
  const jwtSecret = randomBytes(24).toString('hex')
  const metricsToken = randomBytes(12).toString('hex')
  let db: TestDatabase
  let app: App

  beforeAll(async () => {
    db = await createTestDatabase()
    const file = (name: string, value: string) => {
      writeFileSync(join(dir, name), `${value}\n`, { mode: 0o600 })
      return join(dir, name)
    }
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      REDIS_KEY_PREFIX: `test-${randomBytes(4).toString('hex')}:`,
      DATABASE_URL_FILE: file('database_url', db.url),
      REDIS_URL_FILE: file('redis_url', TEST_REDIS_URL!),
      JWT_SECRET_FILE: file('jwt_secret', jwtSecret),
      METRICS_TOKEN_FILE: file('metrics_token', metricsToken)
    })
    expect({ db: config.DATABASE_URL, redis: config.REDIS_URL, jwt: config.JWT_SECRET, metrics: config.METRICS_TOKEN })
      .toEqual({ db: db.url, redis: TEST_REDIS_URL, jwt: jwtSecret, metrics: metricsToken })
    // built without testConfig: its Redis keys registered for deletion after the file by hand
    redisPrefixes.add(config.REDIS_KEY_PREFIX)
    app = await buildApp(config)
    await app.ready()
  })
  afterAll(async () => {
    await app?.close()
    await db?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('connects to the database and Redis named in the files', async () => {
    const ready = await app.inject({ url: '/ready' })
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } })
  })

  it('verifies tokens with the JWT secret from its file, and only with it', async () => {
    const fromFile = signToken({ JWT_SECRET: jwtSecret, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined }, { sub: '2', roles: [], expiresInSeconds: 60 })
    expect((await gql(app, '{ me { id } }', { token: fromFile })).body).toEqual({ data: { me: { id: '2' } } })
    const other = await gql(app, '{ me { id } }', { token: token('2') })
    expect(other.statusCode).toBe(401)
    expect(other.body.errors?.map((e) => e.extensions.code)).toEqual(['UNAUTHENTICATED'])
  })

  it('guards /metrics with the token from its file', async () => {
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401)
    expect((await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${metricsToken}` } })).statusCode).toBe(200)
  })
})
