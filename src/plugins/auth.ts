// Authentication: `Authorization: Bearer <JWT>` on the GraphQL route sets request.caller.
// A present but invalid or expired token is 401 UNAUTHENTICATED, never silently anonymous.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createTokenVerifier, InvalidTokenError } from '../auth/jwt.js'
import { gqlError } from '../errors.js'
import type { Caller } from '../graphql/context.js'

declare module 'fastify' {
  interface FastifyRequest { caller: Caller | null }
}

export interface AuthOptions { config: Config, path: string }

export default fp<AuthOptions>(async function authPlugin (app, { config, path }) {
  const verify = createTokenVerifier(config)
  app.decorateRequest('caller', null)
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization
    if (header === undefined || request.routeOptions.url !== path) return
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(header)
    try {
      if (!match) throw new InvalidTokenError('malformed authorization header')
      request.caller = verify(match[1])
    } catch (err) {
      const reason = err instanceof InvalidTokenError ? err.reason : 'invalid'
      request.log.warn({ event: 'authentication_failed', reason, ip: request.ip }, 'authentication failed')
      throw gqlError('UNAUTHENTICATED', reason === 'FAST_JWT_EXPIRED' ? 'token expired' : 'invalid token', { reason })
    }
  })
}, { name: 'auth' })
