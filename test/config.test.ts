import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, schema } from '../src/config.js'
import { ROOT } from '../src/paths.js'

function problems (env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

describe('loadConfig', () => {
  it('applies the documented defaults outside production', () => {
    const c = loadConfig({})
    expect(c).toMatchObject({
      NODE_ENV: 'development', HOST: '127.0.0.1', PORT: 8000, LOG_LEVEL: 'info',
      DATABASE_POOL_MIN: 2, DATABASE_POOL_MAX: 20, DATABASE_CONNECT_TIMEOUT_MS: 5000, QUERY_TIMEOUT_MS: 30000,
      CACHE_TTL_SECONDS: 30, MAX_QUERY_DEPTH: 10, MAX_QUERY_COMPLEXITY: 1000, RATE_LIMIT_MAX: 100,
      RATE_LIMIT_WINDOW_MS: 60000, CORS_ORIGINS: [], GRAPHIQL: true, INTROSPECTION: true, TRUST_PROXY: false,
      FORCE_HTTPS: false, BODY_LIMIT_BYTES: 1048576, MAX_ALIASES: 15, MAX_TOKENS: 2000, MAX_DIRECTIVES: 50,
      RATE_LIMIT_POINTS: 10000, PERSISTED_QUERIES: 'off', SLOW_QUERY_MS: 500, SHUTDOWN_DELAY_MS: 0,
      SHUTDOWN_GRACE_MS: 20000, MAX_BATCH: 0, REDIS_COMMAND_TIMEOUT_MS: 50, METRICS_OPERATION_NAMES_MAX: 100,
      IDEMPOTENCY_TTL_HOURS: 24, READ_ONLY: false, embeddedDatabase: true, migrateOnStart: true, isProduction: false
    })
    expect(c.JWT_SECRET.length).toBeGreaterThanOrEqual(32)
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('lists every invalid value in one error', () => {
    const p = problems({ PORT: 'eighty', MAX_QUERY_DEPTH: '-1', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' })
    expect(p.map((m) => m.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'MAX_QUERY_DEPTH', 'PORT'])
  })

  it('refuses production without DATABASE_URL and JWT_SECRET, naming both', () => {
    const p = problems({ NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379' })
    expect(p.some((m) => m.startsWith('DATABASE_URL'))).toBe(true)
    expect(p.some((m) => m.startsWith('JWT_SECRET'))).toBe(true)
  })

  it('refuses unsafe production settings and says what to change', () => {
    const p = problems({
      NODE_ENV: 'production', DATABASE_URL: 'postgres://db/app', JWT_SECRET: 'short', CORS_ORIGINS: '*',
      GRAPHIQL: 'true', INTROSPECTION: 'on', MAX_QUERY_DEPTH: '0'
    })
    expect(p.map((m) => m.split(':')[0]).sort()).toEqual(
      ['CORS_ORIGINS', 'GRAPHIQL', 'INTROSPECTION', 'JWT_SECRET', 'MAX_QUERY_DEPTH', 'REDIS_URL'])
  })

  it('accepts a safe production configuration and turns its defaults on', () => {
    const c = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/app', REDIS_URL: 'redis://r:6379', JWT_SECRET: 'x'.repeat(32) })
    expect(c).toMatchObject({ GRAPHIQL: false, INTROSPECTION: false, FORCE_HTTPS: true, SHUTDOWN_DELAY_MS: 5000, migrateOnStart: false })
  })

  it('reads secrets from NAME_FILE and refuses both forms at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-cfg-'))
    writeFileSync(join(dir, 'jwt'), 'a-secret-from-a-file-that-is-long-enough\n')
    expect(loadConfig({ JWT_SECRET_FILE: join(dir, 'jwt') }).JWT_SECRET).toBe('a-secret-from-a-file-that-is-long-enough')
    expect(problems({ JWT_SECRET_FILE: join(dir, 'jwt'), JWT_SECRET: 'y'.repeat(40) })[0]).toMatch(/^JWT_SECRET:/)
    expect(problems({ REDIS_URL_FILE: join(dir, 'missing') })[0]).toMatch(/^REDIS_URL_FILE:/)
  })

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' })).toMatchObject({ embeddedDatabase: true, PORT: 8000 })
  })
})

describe('.env.example', () => {
  const lines = readFileSync(join(ROOT, '.env.example'), 'utf8').split('\n')
  const documented = lines.map((l) => /^#?\s*([A-Z][A-Z0-9_]+)=/.exec(l)?.[1]).filter(Boolean)

  it('lists every variable of the schema exactly once, and nothing else', () => {
    expect([...documented].sort()).toEqual(Object.keys(schema.shape).sort())
  })

  it('describes every variable above its line, as the schema does', () => {
    for (const name of Object.keys(schema.shape)) {
      const i = lines.findIndex((l) => new RegExp(`^#?\\s*${name}=`).test(l))
      expect(lines[i - 1], name).toMatch(/^# \S/)
      expect(schema.shape[name as keyof typeof schema.shape].description, name).toBeTruthy()
    }
  })

  it('holds values that the schema accepts', () => {
    const env = Object.fromEntries(lines.map((l) => /^([A-Z][A-Z0-9_]+)=(.*)$/.exec(l)).filter((m) => m !== null).map((m) => [m![1], m![2]]))
    expect(() => loadConfig(env)).not.toThrow()
  })
})

describe('generated documentation', () => {
  it('.env.example and the table in docs/configuration.md are current (npm run config:docs)', async () => {
    const { envExample, readmeWithTable } = await import('../scripts/config-docs.js')
    expect(readFileSync(join(ROOT, '.env.example'), 'utf8')).toBe(envExample())
    const readme = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8')
    expect(readme).toBe(readmeWithTable(readme))
  })
})

describe('npm run check-config', () => {
  it('exits non-zero in production without DATABASE_URL and JWT_SECRET, naming both, and 0 when valid', async () => {
    const { spawnSync } = await import('node:child_process')
    const run = (env: Record<string, string>) => spawnSync(process.execPath, ['--import', 'tsx', 'src/check-config.ts'],
      { cwd: ROOT, env: { PATH: process.env.PATH!, ...env }, encoding: 'utf8' })
    const bad = run({ NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379' })
    expect(bad.status).not.toBe(0)
    expect(bad.stderr).toMatch(/DATABASE_URL/)
    expect(bad.stderr).toMatch(/JWT_SECRET/)
    expect(run({ NODE_ENV: 'development' }).status).toBe(0)
  })

  it('prints parse errors and production policy problems in one pass', () => {
    let problems: string[] = []
    try {
      loadConfig({ NODE_ENV: 'production', MAX_QUERY_DEPTH: 'deep', PORT: '-1', GRAPHIQL: 'true', CORS_ORIGINS: '*' })
    } catch (err) {
      problems = (err as ConfigError).problems
    }
    const names = problems.map((p) => p.slice(0, p.indexOf(':'))).sort()
    expect(names).toEqual(['CORS_ORIGINS', 'DATABASE_URL', 'GRAPHIQL', 'JWT_SECRET', 'MAX_QUERY_DEPTH', 'PORT', 'REDIS_URL'])
  })
})
