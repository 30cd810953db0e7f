// One real app per test file (or per test where state matters), on a database of its own.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, inject } from 'vitest'
import pg from 'pg'
import type { App } from '../../src/app.js'
import { buildApp } from '../../src/server-options.js'
import { loadConfig, type Config } from '../../src/config.js'
import { signToken } from '../../src/auth/jwt.js'
import { withDatabase } from '../../src/db/connection.js'
import { redisPrefixes } from './redis-prefixes.js'

export const JWT_SECRET = 'test-secret-test-secret-test-secret-42'

export interface TestDatabase { url: string, drop (): Promise<void> }

/** A database for one test file: a copy of the migrated, seeded template (test/global-setup.ts). */
export async function createTestDatabase (): Promise<TestDatabase> {
  const serverUrl = inject('databaseUrl')
  const template = inject('templateDatabase')
  const name = `bastion_t_${randomBytes(5).toString('hex')}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  try {
    // CREATE DATABASE from one template fails while another copy of it is in progress: retry.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`)
        break
      } catch (err) {
        if (attempt >= 20 || !/being accessed by other users/.test((err as Error).message)) throw err
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200))
      }
    }
  } finally {
    await admin.end()
  }
  return {
    url: withDatabase(serverUrl, name),
    async drop () {
      const c = new pg.Client({ connectionString: serverUrl })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    }
  }
}

/** Test configuration: the given database, silent logs, a known JWT secret, plus overrides. */
export function testConfig (databaseUrl: string, env: Record<string, string | undefined> = {}): Config {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    JWT_SECRET,
    REDIS_KEY_PREFIX: `test-${randomBytes(4).toString('hex')}:`,
    // a test app serves one file's many requests from one IP: only tests about rate limits
    // (test/security) set these to the defaults or lower
    RATE_LIMIT_MAX: '100000',
    RATE_LIMIT_POINTS: '100000000',
    ...env
  })
  // its keys on the shared Redis are deleted after the file (test/setup-redis.ts); only a test's own
  // prefix: never a shared one a test may name (the default, or none)
  if (config.REDIS_URL && config.REDIS_KEY_PREFIX.startsWith('test-')) redisPrefixes.add(config.REDIS_KEY_PREFIX)
  return config
}

export async function buildTestApp (databaseUrl: string, env: Record<string, string | undefined> = {}): Promise<App> {
  const app = await buildApp(testConfig(databaseUrl, env))
  await app.ready()
  return app
}

/**
 * A real app on a database of its own for one file's tests: built before them, closed and dropped
 * after. Read `.app` (and `.db`) inside the tests, once beforeAll has run. `build` is how the app
 * is built (test/security/helpers.ts builds one whose log lines the tests read).
 */
export function useTestApp (env: Record<string, string | undefined> = {}, build = buildTestApp): { readonly app: App, readonly db: TestDatabase } {
  const state = {} as { app: App, db: TestDatabase }
  beforeAll(async () => {
    state.db = await createTestDatabase()
    state.app = await build(state.db.url, env)
  })
  afterAll(async () => {
    await state.app?.close()
    await state.db?.drop()
  })
  return state
}

/**
 * A pg client on the file's database (from useTestApp), for tests that read or lock rows behind the
 * app's back. Call it after useTestApp: after-hooks run in reverse, so it ends before the drop.
 */
export function useTestSql (t: { readonly db: TestDatabase }): { readonly sql: pg.Client } {
  const state = {} as { sql: pg.Client }
  beforeAll(async () => {
    state.sql = new pg.Client({ connectionString: t.db.url })
    await state.sql.connect()
  })
  afterAll(async () => { await state.sql?.end() })
  return state
}

export function token (sub: string, roles: string[] = [], expiresInSeconds = 3600): string {
  return signToken({ JWT_SECRET, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined }, { sub, roles, expiresInSeconds })
}

export interface GqlOptions { variables?: Record<string, unknown>, token?: string, headers?: Record<string, string>, operationName?: string }

/**
 * What current GraphQL clients (Apollo Client, urql, graphql-request) send as Accept: request
 * errors then come with 4xx statuses (src/graphql/http-media.ts).
 */
export const MODERN_ACCEPT = 'application/graphql-response+json, application/json;q=0.9'

/** POST /graphql through app.inject, with the modern Accept unless opts.headers names another. */
export async function gql (app: App, query: string, opts: GqlOptions = {}) {
  const res = await app.inject({
    method: 'POST',
    url: '/graphql',
    headers: {
      'content-type': 'application/json',
      accept: MODERN_ACCEPT,
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers
    },
    payload: JSON.stringify({ query, variables: opts.variables, operationName: opts.operationName })
  })
  return { statusCode: res.statusCode, headers: res.headers, body: res.json() as { data?: any, errors?: Array<{ message: string, path?: Array<string | number>, extensions: { code: string, [k: string]: unknown } }> } }
}

/** the codes and paths of a response's errors, for whole-value assertions */
export function errorsOf (body: { errors?: Array<{ path?: Array<string | number>, extensions: { code: string } }> }) {
  return (body.errors ?? []).map((e) => ({ code: e.extensions.code, path: e.path }))
}
