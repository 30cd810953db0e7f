// A local identity provider for the RS256 row of `npm run bench`: one RSA key, its JWKS served over
// HTTP on 127.0.0.1, and a token signed with it (same claims as the HS256 row's token).
import { generateKeyPairSync } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { signToken } from '../src/auth/jwt.js'

export interface JwksServer { env: Record<string, string>, token: string, server: Server }

export async function startJwksServer (): Promise<JwksServer> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'bench-1', alg: 'RS256', use: 'sig' }] })
  const server = createServer((_req, res) => { res.setHeader('content-type', 'application/json'); res.end(jwks) }).listen(0, '127.0.0.1')
  await once(server, 'listening')
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const claims = { JWT_SECRET: '', JWT_ISSUER: `${base}/`, JWT_AUDIENCE: 'bastion-bench' }
  const token = signToken(claims, {
    sub: '1', roles: ['admin'], expiresInSeconds: 3600, algorithm: 'RS256', kid: 'bench-1',
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  })
  return { env: { JWT_JWKS_URL: `${base}/jwks.json`, JWT_ISSUER: claims.JWT_ISSUER, JWT_AUDIENCE: claims.JWT_AUDIENCE }, token, server }
}
