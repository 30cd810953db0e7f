// The Fastify server options (logger, request ids, proxies, limits, timeouts, malformed HTTP) and
// buildApp: a Fastify server with those options and the app plugin (src/app.ts). src/server.ts
// starts the process with it, the tests and the bench build theirs with it: one set of options.
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import app from './app.js'
import { clientErrorHandler } from './client-error.js'
import type { Config } from './config.js'
import { loggerOptions } from './logger.js'
import { RequestLogController } from './observability/request-log.js'
import { API_HEADERS } from './plugins/security.js'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export interface BuildOptions {
  /** a logger instance or pino options; defaults to loggerOptions(config) */
  logger?: FastifyServerOptions['loggerInstance'] | FastifyServerOptions['logger']
}

export function serverOptions (config: Config, opts: BuildOptions = {}): FastifyServerOptions {
  const logger = opts.logger ?? loggerOptions(config)
  return {
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
    clientErrorHandler: clientErrorHandler(API_HEADERS)
  }
}

/** A server with serverOptions(config) and the app plugin, loaded (not listening). */
export async function buildApp (config: Config, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const server = Fastify(serverOptions(config, opts)) as unknown as FastifyInstance
  // fastify-plugin: the app's decorators (db, metrics, lifecycle...) are the server's own
  await server.register(fp(app, { name: 'app' }), { config })
  return server
}
