// Authentication: `Authorization: Bearer <JWT>` on the GraphQL route sets request.caller.
// A present but invalid or expired token is 401 UNAUTHENTICATED, never silently anonymous.
// With a JWKS (JWT_JWKS_URL or JWT_OIDC_DISCOVERY) the keys are loaded before the server
// starts listening, and app.identityKeys tells /ready whether the provider still answers.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import type { Config } from '../config.js'
import { createKeySet, type KeySet, type KeySetStatus } from '../auth/jwks.js'
import { createTokenVerifier, InvalidTokenError } from '../auth/jwt.js'
import { gqlError } from '../error-codes.js'
import type { Caller } from '../graphql/context.js'
import { securityEvent } from '../security/events.js'

declare module 'fastify' {
  interface FastifyRequest { caller: Caller | null }
  interface FastifyInstance {
    /** set with a JWKS only: `degraded` while the provider's JWKS endpoint fails (cached keys still work) */
    identityKeys: { status (): KeySetStatus }
  }
}

export interface AuthOptions { config: Config, path: string }

/** Longer tokens are refused before any parsing (real ones, even with many groups, are a few KiB). */
export const MAX_TOKEN_CHARS = 8192
const JWKS_TIMEOUT_MS = 5000
const JWKS_REFRESH_EVERY_MS = 5 * 60_000

function keySet (app: FastifyInstance, config: Config): KeySet {
  const failures = new Counter({
    name: 'jwks_fetch_failures_total',
    help: "Failed fetches of the identity provider's JWKS (or discovery document); cached keys stay in use",
    registers: [app.metrics.registry]
  })
  return createKeySet({
    url: config.JWT_JWKS_URL,
    issuer: config.JWT_ISSUER,
    algorithms: config.JWT_ALGORITHMS,
    refreshMinMs: config.JWT_JWKS_REFRESH_MIN_S * 1000,
    refreshEveryMs: Math.max(JWKS_REFRESH_EVERY_MS, config.JWT_JWKS_REFRESH_MIN_S * 1000),
    timeoutMs: JWKS_TIMEOUT_MS,
    cacheFile: config.jwksCacheFile,
    log: app.log,
    onFailure: () => failures.inc()
  })
}

export default fp<AuthOptions>(async function authPlugin (app, { config, path }) {
  let keys: KeySet | undefined
  if (config.jwks) {
    keys = keySet(app, config)
    await keys.start()
    app.decorate('identityKeys', { status: keys.status })
    app.addHook('onClose', async () => { keys!.stop() })
  }
  const verify = createTokenVerifier(config, keys)
  // why a request's token was refused; answered in preParsing, after the rate limiter (a route
  // onRequest hook) has counted it by IP, so bad tokens cannot be tried without limit
  const refused = new WeakMap<FastifyRequest, string>()
  const refuse = (request: FastifyRequest, err: unknown) => {
    const reason = err instanceof InvalidTokenError ? err.reason : 'invalid'
    securityEvent(request, 'authentication_failed', { reason })
    refused.set(request, reason)
  }
  app.decorateRequest('caller', null)
  app.addHook('onRequest', function authenticate (request, _reply, done) {
    const header = request.headers.authorization
    if (header === undefined || request.routeOptions.url !== path) return done()
    // the scheme is case-insensitive (RFC 9110 section 11.1); one space, then the token's characters only
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/i.exec(header)
    try {
      if (!match) throw new InvalidTokenError('malformed authorization header')
      if (match[1].length > MAX_TOKEN_CHARS) throw new InvalidTokenError('token_too_large')
      const caller = verify(match[1])
      if (!(caller instanceof Promise)) {
        request.caller = caller
        return done()
      }
      caller.then((c) => { request.caller = c }, (err: unknown) => refuse(request, err)).finally(() => done())
    } catch (err) {
      refuse(request, err)
      done()
    }
  })
  app.addHook('preParsing', function refuseInvalidToken (request, _reply, payload, done) {
    const reason = refused.get(request)
    if (reason === undefined) return done(null, payload)
    done(gqlError('UNAUTHENTICATED', reason === 'FAST_JWT_EXPIRED' ? 'token expired' : 'invalid token', { reason }))
  })
}, { name: 'auth', dependencies: ['metrics'], decorators: { fastify: ['metrics'] } })
