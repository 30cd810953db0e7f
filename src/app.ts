// buildApp(config): the whole server as one Fastify instance. Plugins are registered here, in
// order, so the request path reads top to bottom.
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyServerOptions } from 'fastify'
import { clientErrorHandler } from './client-error.js'
import type { Config } from './config.js'
import { loggerOptions } from './logger.js'
import { RequestLogController } from './observability/request-log.js'
import auth from './plugins/authentication.js'
import businessMetrics from './plugins/business-metrics.js'
import cache from './plugins/cache.js'
import db from './plugins/db.js'
import errorTracking from './plugins/error-tracking.js'
import errors from './plugins/errors.js'
import graphiql from './plugins/graphiql.js'
import graphql from './plugins/graphql.js'
import health from './plugins/health.js'
import idempotency from './plugins/idempotency.js'
import metrics from './plugins/metrics.js'
import pressure from './plugins/pressure.js'
import rateLimit from './plugins/rate-limit.js'
import redis from './plugins/redis.js'
import security, { API_HELMET, helmetHeaders } from './plugins/security.js'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/
export const GRAPHQL_PATH = '/graphql'

export interface BuildOptions {
  /** a logger instance or pino options; defaults to loggerOptions(config) */
  logger?: FastifyServerOptions['loggerInstance'] | FastifyServerOptions['logger']
}

export async function buildApp (config: Config, opts: BuildOptions = {}) {
  const logger = opts.logger ?? loggerOptions(config)
  const app = Fastify({
    ...(logger && typeof (logger as { child?: unknown }).child === 'function'
      ? { loggerInstance: logger as FastifyServerOptions['loggerInstance'] }
      : { logger: logger as FastifyServerOptions['logger'] }),
    // Keep a valid incoming x-request-id (from the load balancer or client), else make one.
    requestIdHeader: false,
    // one JSON line per request, written when it completes (src/observability/request-log.ts)
    logController: new RequestLogController(),
    genReqId: (req) => {
      const incoming = req.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    // Trust the nearest TRUST_PROXY_HOPS proxies, not all: with `true` the client's own
    // X-Forwarded-For would pick its IP (and so its rate limit).
    trustProxy: config.TRUST_PROXY ? (_address: string, hop: number) => hop < config.TRUST_PROXY_HOPS : false,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Server timeouts: a slow client cannot hold a socket forever.
    requestTimeout: config.QUERY_TIMEOUT_MS + 5000,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeout: config.QUERY_TIMEOUT_MS + 10000,
    // Draining has already told the load balancer (/ready 503, connection: close): a request that
    // still arrives on an open connection while closing is served, not failed with a 503.
    return503OnClosing: false,
    // the embedded database takes seconds to start (more on a busy machine)
    pluginTimeout: config.embeddedDatabase ? 120_000 : 30_000,
    routerOptions: { ignoreTrailingSlash: true },
    // what Node's HTTP parser refuses (400, 408, 431): headers, request id, log line (src/client-error.ts)
    clientErrorHandler: clientErrorHandler(helmetHeaders(API_HELMET))
  })
  // a callback hook: an async one costs a promise on every request
  app.addHook('onRequest', (request, reply, done) => { reply.header('x-request-id', request.id); done() })

  // observability first: every response is counted and logged, whichever plugin answers it
  await app.register(metrics, { config, graphqlPath: GRAPHQL_PATH })
  await app.register(errorTracking, { config })
  // the edge: JSON depth and operationName checks, one error shape outside GraphQL, client aborts
  await app.register(errors, { graphqlPath: GRAPHQL_PATH })
  // 0. security headers on every response (a shed request's 503 too), HTTPS redirect, CORS
  await app.register(security, { config })
  // load shedding next: an overloaded process should spend nothing on a request it refuses
  await app.register(pressure, { config })
  // 1. shared services
  await app.register(db, { config })
  await app.register(redis, { config })
  await app.register(cache, { config })
  await app.register(idempotency, { config })
  // 2. routes outside GraphQL
  await app.register(health, { config })
  // 3. who is calling
  await app.register(auth, { config, path: GRAPHQL_PATH })
  // business metrics: active callers (known now), and counters the creating resolvers increment
  await app.register(businessMetrics, { config })
  // rate limit per client (the subject, known now, else the IP) and the cost budget
  await app.register(rateLimit, { config })
  // 4. GraphQL
  await app.register(graphql, { config, path: GRAPHQL_PATH })
  await app.register(graphiql, { config, graphqlPath: GRAPHQL_PATH })
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
