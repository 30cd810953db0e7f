// Identity configuration refused at start-up, the development key cache, and `npm run token`
// minting RS256/ES256/EdDSA tokens with a local private key.
import { execFile } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createDecoder } from 'fast-jwt'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKeySet } from '../../src/auth/jwks.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { ROOT } from '../../src/paths.js'
import { buildTestApp, createTestDatabase, gql, type TestDatabase } from '../helpers/app.js'
import { jwksEnv, startIdentityProvider, type IdentityProvider } from '../helpers/identity-provider.js'

const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/app', REDIS_URL: 'redis://cache:6379' }
function problems (env: Record<string, string>): string[] {
  try {
    loadConfig(env)
    return []
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return err.problems.map((p) => p.split(/[:.]/)[0])
  }
}

describe('configuration', () => {
  const jwks = 'https://id.example.com/.well-known/jwks.json'
  it.each<[string, Record<string, string>, string[]]>([
    ['production with a JWKS and no issuer or audience', { ...production, JWT_JWKS_URL: jwks }, ['JWT_ISSUER', 'JWT_AUDIENCE']],
    ['production with a JWKS over plain http', { ...production, JWT_JWKS_URL: 'http://id.example.com/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }, ['JWT_JWKS_URL / JWT_ISSUER']],
    ['production, discovery over plain http', { ...production, JWT_OIDC_DISCOVERY: 'true', JWT_ISSUER: 'http://id.example.com/', JWT_AUDIENCE: 'a' }, ['JWT_JWKS_URL / JWT_ISSUER']],
    ['production with neither JWT_SECRET nor a JWKS', production, ['JWT_SECRET']],
    ['HS256 with a JWKS', { JWT_JWKS_URL: jwks, JWT_ALGORITHMS: 'RS256,HS256' }, ['JWT_ALGORITHMS']],
    ['none', { JWT_ALGORITHMS: 'none' }, ['JWT_ALGORITHMS']],
    ['RS256 without a JWKS', { JWT_ALGORITHMS: 'RS256' }, ['JWT_ALGORITHMS']],
    ['discovery without an issuer URL', { JWT_OIDC_DISCOVERY: 'true' }, ['JWT_ISSUER']],
    ['both a JWKS URL and discovery', { JWT_JWKS_URL: jwks, JWT_OIDC_DISCOVERY: 'true', JWT_ISSUER: 'https://id.example.com/' }, ['JWT_OIDC_DISCOVERY']]
  ])('refuses %s', (_, env, names) => {
    expect(problems(env)).toEqual(expect.arrayContaining(names))
  })

  it('accepts production with a JWKS, an issuer and an audience (no JWT_SECRET)', () => {
    const c = loadConfig({ ...production, JWT_JWKS_URL: jwks, JWT_ISSUER: 'https://id.example.com/', JWT_AUDIENCE: 'api' })
    expect({ jwks: c.jwks, algorithms: c.JWT_ALGORITHMS, cacheFile: c.jwksCacheFile }).toEqual({ jwks: true, algorithms: ['RS256'], cacheFile: undefined })
  })
})

describe('start-up with the provider down (development key cache)', () => {
  let idp: IdentityProvider
  const cacheFile = join(mkdtempSync(join(tmpdir(), 'bastion-jwks-')), 'jwks.json')
  const logs: Array<{ level: number, msg: string }> = []
  const log = pino({ level: 'info' }, { write: (line: string) => { logs.push(JSON.parse(line) as { level: number, msg: string }) } })
  const keySet = (file?: string) => createKeySet({
    url: idp.jwksUrl, algorithms: ['RS256'], refreshMinMs: 1000, refreshEveryMs: 60_000, timeoutMs: 2000, cacheFile: file, log, onFailure: () => {}
  })
  beforeAll(async () => { idp = await startIdentityProvider() })
  afterAll(async () => { await idp?.close() })

  it('uses the keys an earlier run cached, with a warning; without them, refuses to start', async () => {
    const kid = idp.addKey('RS256')
    const first = keySet(cacheFile)
    await first.start()
    first.stop()
    idp.mode = 'down'
    try {
      const cached = keySet(cacheFile)
      await cached.start()
      cached.stop()
      expect(await cached.keyFor({ alg: 'RS256', kid })).toMatch(/^-----BEGIN PUBLIC KEY-----/)
      expect(cached.status()).toBe('degraded')
      expect(logs.filter((l) => l.level === 40).map((l) => l.msg)).toContain('JWKS: provider unreachable at start-up; using the keys cached by an earlier run (development only)')
      await expect(keySet().start()).rejects.toThrow(/JWT_JWKS_URL/)
    } finally {
      idp.mode = 'up'
    }
  })
})

describe('npm run token --alg --key', () => {
  let idp: IdentityProvider
  let db: TestDatabase
  const dir = mkdtempSync(join(tmpdir(), 'bastion-keys-'))
  beforeAll(async () => {
    idp = await startIdentityProvider()
    db = await createTestDatabase()
  })
  afterAll(async () => {
    await idp?.close()
    await db?.drop()
  })

  it.each([['RS256', 'rsa'], ['ES256', 'ec'], ['EdDSA', 'ed25519']] as const)('mints a %s token the server accepts through its JWKS', async (alg, type) => {
    const pair = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519')
    const file = join(dir, `${alg}.pem`)
    writeFileSync(file, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }))
    idp.extraJwks.push({ ...pair.publicKey.export({ format: 'jwk' }), kid: `cli-${alg}`, alg, use: 'sig' })
    const env = { NODE_ENV: 'test', PATH: process.env.PATH!, JWT_JWKS_URL: idp.jwksUrl, JWT_ISSUER: idp.issuer, JWT_AUDIENCE: 'bastion-api', JWT_ALGORITHMS: alg }
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/token-cli.ts', '--sub', '5', '--alg', alg, '--key', file, '--kid', `cli-${alg}`], { cwd: ROOT, env })
    expect((createDecoder({ complete: true })(stdout.trim()) as { header: unknown }).header).toEqual({ alg, typ: 'JWT', kid: `cli-${alg}` })
    const app = await buildTestApp(db.url, jwksEnv(idp))
    try {
      expect((await gql(app, '{ me { id } }', { token: stdout.trim() })).body).toEqual({ data: { me: { id: '5' } } })
    } finally {
      await app.close()
    }
  })

  it('refuses an asymmetric algorithm without --key', async () => {
    const res = promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/token-cli.ts', '--alg', 'RS256'], { cwd: ROOT, env: { NODE_ENV: 'test', PATH: process.env.PATH! } })
    await expect(res).rejects.toMatchObject({ code: 1 })
  })
})
