// A real, local identity provider for tests: an HTTP server on 127.0.0.1 serving OpenID Connect
// discovery and a JWKS of keys made with node:crypto, which can rotate its keys, go down (500),
// hang (no answer) and counts the JWKS fetches; and a signer for tokens with its private keys.
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSigner, type Algorithm } from 'fast-jwt'

export type KeyKind = 'RS256' | 'ES256' | 'EdDSA' | 'RS256-1024'

interface Key { kid: string, alg: Algorithm, privateKey: KeyObject, jwk: Record<string, unknown> }

function makeKey (kind: KeyKind, kid: string): Key {
  const pair = kind === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : kind === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('rsa', { modulusLength: kind === 'RS256-1024' ? 1024 : 2048 })
  const alg = (kind === 'RS256-1024' ? 'RS256' : kind) as Algorithm
  return { kid, alg, privateKey: pair.privateKey, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } }
}

export interface IdentityProvider {
  issuer: string
  jwksUrl: string
  /** JWKS fetches served (or refused) so far */
  fetches: number
  /** 'up' serves; 'down' answers 500; 'hang' never answers */
  mode: 'up' | 'down' | 'hang'
  /** adds a key to the published set and returns its kid */
  addKey (kind: KeyKind, kid?: string): string
  removeKey (kid: string): void
  /** the published JWKS, to tamper with */
  extraJwks: Array<Record<string, unknown>>
  publicJwk (kid: string): Record<string, unknown>
  /** a token signed with the private key `kid`, with iss and aud (override with claims) */
  sign (kid: string, claims?: Record<string, unknown>, opts?: { expiresIn?: number }): string
  close (): Promise<void>
}

let counter = 0

export async function startIdentityProvider (audience = 'bastion-api'): Promise<IdentityProvider> {
  const keys = new Map<string, Key>()
  const hanging = new Set<import('node:http').ServerResponse>()
  let base = ''
  const provider: IdentityProvider = {
    issuer: '',
    jwksUrl: '',
    fetches: 0,
    mode: 'up',
    extraJwks: [],
    addKey (kind, kid = `${kind.toLowerCase()}-${++counter}`) {
      keys.set(kid, makeKey(kind, kid))
      return kid
    },
    removeKey (kid) { keys.delete(kid) },
    publicJwk (kid) { return keys.get(kid)!.jwk },
    sign (kid, claims = {}, opts = {}) {
      const key = keys.get(kid)
      if (!key) throw new Error(`no key ${kid}`)
      const pem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
      const now = Math.floor(Date.now() / 1000)
      // the claims are ours (fast-jwt's iss/aud/expiresIn options would override a test's own)
      return createSigner({ key: pem, algorithm: key.alg, kid })({ sub: '1', roles: [], iss: provider.issuer, aud: audience, iat: now, exp: now + (opts.expiresIn ?? 600), ...claims })
    },
    async close () {
      for (const res of hanging) res.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/'
    if (url === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ issuer: provider.issuer, jwks_uri: provider.jwksUrl, id_token_signing_alg_values_supported: ['RS256', 'ES256', 'EdDSA'] }))
      return
    }
    if (url !== '/jwks.json') { res.statusCode = 404; res.end(); return }
    provider.fetches++
    if (provider.mode === 'hang') { hanging.add(res); return }
    if (provider.mode === 'down') { res.statusCode = 500; res.end('down'); return }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ keys: [...[...keys.values()].map((k) => k.jwk), ...provider.extraJwks] }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  provider.issuer = `${base}/`
  provider.jwksUrl = `${base}/jwks.json`
  return provider
}

/** Environment for an app that trusts `provider` through its JWKS URL (or discovery). */
export function jwksEnv (provider: IdentityProvider, extra: Record<string, string> = {}): Record<string, string> {
  // key generation in the test blocks the event loop: no load shedding on that account
  return { JWT_JWKS_URL: provider.jwksUrl, JWT_ISSUER: provider.issuer, JWT_AUDIENCE: 'bastion-api', JWT_ALGORITHMS: 'RS256,ES256,EdDSA', PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', ...extra }
}

/** `token` with its header's kid (and alg) replaced: the signature no longer matches, which no check reaches first. */
export function withHeader (token: string, header: Record<string, unknown>): string {
  return token.replace(/^[^.]+/, Buffer.from(JSON.stringify({ typ: 'JWT', ...header })).toString('base64url'))
}
