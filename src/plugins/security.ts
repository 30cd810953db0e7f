// Security headers on every response (errors and 404s included), HTTPS redirect behind a proxy,
// and CORS for the listed origins only.
// Headers are helmet's (https://helmetjs.github.io), computed once at start-up and copied onto
// each reply by a sync hook: @fastify/helmet rebuilds helmet's middleware on every request.
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import cors from '@fastify/cors'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'
import type { Config } from '../config.js'
import { errorBody } from '../http-errors.js'

export interface SecurityOptions { config: Config }

// An API answers JSON: it loads nothing, is framed by nothing, submits no forms.
export const API_HELMET: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] }
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  // Headers that only matter to documents a browser renders (process isolation, legacy IE and
  // Flash, the retired XSS auditor): a JSON API has none, and every header is written and
  // validated on every response.
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false
}

/** The response headers helmet sets with these options (lower-case names). */
export function helmetHeaders (options: HelmetOptions): Record<string, string> {
  // a real (unsent) response: helmet sets and removes headers on it, once, at start-up
  const req = new IncomingMessage(new Socket())
  const res = new ServerResponse(req)
  helmet(options)(req, res, () => {})
  return Object.fromEntries(Object.entries(res.getHeaders()).map(([name, value]) => [name, String(value)]))
}

/** helmetHeaders(API_HELMET), computed once: every reply's headers, and those of a malformed request's answer (src/client-error.ts) */
export const API_HEADERS: Readonly<Record<string, string>> = Object.freeze(helmetHeaders(API_HELMET))

// probes and scrapes come from inside the network, without the proxy's X-Forwarded-Proto
const NO_REDIRECT = new Set(['/health', '/ready', '/metrics'])
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/

// what a browser client may send and read cross-origin
const ALLOWED_HEADERS = ['content-type', 'authorization', 'x-request-id', 'idempotency-key', 'x-mercurius-operation-name', 'mercurius-require-preflight', 'graphql-require-preflight']
const EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-cost', 'x-ratelimit-points-limit', 'x-ratelimit-points-remaining']

export default fp<SecurityOptions>(async function securityPlugin (app, { config }) {
  app.addHook('onRequest', function securityHeaders (_request, reply, done) {
    reply.headers(API_HEADERS)
    done()
  })

  // Behind a TLS-terminating proxy: X-Forwarded-Proto: http means the client used plain HTTP.
  // 308 keeps the method and body; no-store keeps a shared cache from keeping a redirect built
  // from one client's Host header.
  if (config.TRUST_PROXY && config.FORCE_HTTPS) {
    app.addHook('onRequest', function httpsRedirect (request, reply, done) {
      if (request.headers['x-forwarded-proto'] === undefined || request.protocol !== 'http' || NO_REDIRECT.has(request.routeOptions.url ?? '')) return done()
      if (!HOST.test(request.host)) {
        reply.code(400).send(errorBody('BAD_USER_INPUT', request.id, 'Invalid Host header'))
        return
      }
      reply.header('cache-control', 'no-store').redirect(`https://${request.host}${request.url}`, 308)
    })
  }

  // No listed origin: no CORS headers at all, so browsers keep other sites out.
  if (config.CORS_ORIGINS.length > 0) {
    await app.register(cors, {
      origin: config.CORS_ORIGINS.includes('*') ? '*' : config.CORS_ORIGINS,
      methods: ['GET', 'POST'],
      allowedHeaders: ALLOWED_HEADERS,
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600
    })
  }
}, { name: 'security' })
