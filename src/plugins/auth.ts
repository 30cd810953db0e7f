// Authentication: `Authorization: Bearer <JWT>` on the GraphQL route sets request.caller.
// A present but invalid or expired token is 401 UNAUTHENTICATED, never silently anonymous.
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createTokenVerifier, InvalidTokenError } from '../auth/jwt.js'
import { gqlError } from '../errors.js'
import type { Caller } from '../graphql/context.js'
import { securityEvent } from '../security/events.js'

declare module 'fastify' {
  interface FastifyRequest { caller: Caller | null }
}

export interface AuthOptions { config: Config, path: string }

export default fp<AuthOptions>(async function authPlugin (app, { config, path }) {
  const verify = createTokenVerifier(config)
  // why a request's token was refused; answered in preParsing, after the rate limiter (a route
  // onRequest hook) has counted it by IP, so bad tokens cannot be tried without limit
  const refused = new WeakMap<FastifyRequest, string>()
  app.decorateRequest('caller', null)
  app.addHook('onRequest', (request, _reply, done) => {
    const header = request.headers.authorization
    if (header === undefined || request.routeOptions.url !== path) return done()
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(header)
    try {
      if (!match) throw new InvalidTokenError('malformed authorization header')
      request.caller = verify(match[1])
    } catch (err) {
      const reason = err instanceof InvalidTokenError ? err.reason : 'invalid'
      securityEvent(request, 'authentication_failed', { reason })
      refused.set(request, reason)
    }
    done()
  })
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const reason = refused.get(request)
    if (reason === undefined) return done(null, payload)
    done(gqlError('UNAUTHENTICATED', reason === 'FAST_JWT_EXPIRED' ? 'token expired' : 'invalid token', { reason }))
  })
}, { name: 'auth' })
