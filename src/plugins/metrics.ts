// Prometheus metrics (src/observability/metrics.ts) and GET /metrics. Counted here: every HTTP
// response (one sync onResponse hook; route = the route pattern, or `unmatched` for 404, so labels
// stay bounded), 429s and GraphQL requests rejected before execution. The database plugin times
// its own statements and hands over its pool; the health plugin hands over the readiness verdict.
// /metrics is not rate-limited, not logged per request, and needs
// `Authorization: Bearer METRICS_TOKEN` when that is set; with METRICS_PORT it is served only on
// that port (an internal one), not on the public one.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { once } from 'node:events'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { errorBody, httpError } from '../http-errors.js'
import { child, createMetrics, type Metrics } from '../observability/metrics.js'

declare module 'fastify' {
  interface FastifyInstance { metrics: Metrics }
  interface FastifyRequest {
    /** an operation of this request reached onResolution (else a GraphQL request counts as rejected) */
    graphqlExecuted: boolean
  }
}

export interface MetricsPluginOptions { config: Config, graphqlPath: string }

const unauthorized = (requestId: string) => JSON.stringify(errorBody('UNAUTHENTICATED', requestId))
const digest = (s: string) => createHash('sha256').update(s).digest()

export default fp<MetricsPluginOptions>(async function metricsPlugin (app, { config, graphqlPath }) {
  // the database plugin hands over its pool and statement timings, the health plugin its readiness verdict
  const metrics = createMetrics({ poolMax: config.DATABASE_POOL_MAX })
  app.decorate('metrics', metrics)
  app.decorateRequest('graphqlOperation', null)
  app.decorateRequest('graphqlExecuted', false)

  app.addHook('onResponse', function countResponse (request, reply, done) {
    const route = request.routeOptions.url ?? 'unmatched'
    const status = reply.statusCode
    child(metrics.httpRequests, request.method, route, String(status)).inc()
    child(metrics.httpDuration, request.method, route).observe(reply.elapsedTime / 1000)
    if (status === 429) metrics.rateLimitRejections.inc()
    if (route === graphqlPath && !request.graphqlExecuted) {
      const op = request.graphqlOperation
      metrics.graphqlOperations.inc({ operation_type: op?.type ?? 'unknown', operation_name: op?.label ?? 'other', outcome: 'rejected' })
    }
    done()
  })

  // Constant-time comparison of digests: the token's length and prefix do not leak through timing.
  // The scheme is case-insensitive (RFC 9110, 11.1), as on the GraphQL route: `bearer <token>` works.
  const expected = config.METRICS_TOKEN ? digest(config.METRICS_TOKEN) : null
  const authorized = (headers: IncomingHttpHeaders) => {
    if (expected === null) return true
    const token = typeof headers.authorization === 'string' ? /^Bearer (.+)$/i.exec(headers.authorization)?.[1] : undefined
    return token !== undefined && timingSafeEqual(digest(token), expected)
  }

  if (config.METRICS_PORT === undefined) {
    if (config.isProduction && !expected) {
      app.log.warn('/metrics is public: set METRICS_TOKEN or METRICS_PORT, or keep /metrics off the load balancer')
    }
    app.get('/metrics', { logLevel: 'warn', config: { rateLimit: false } }, async (request, reply) => {
      if (!authorized(request.headers)) {
        return reply.code(401).header('www-authenticate', 'Bearer').type('application/json').send(unauthorized(request.id))
      }
      reply.type(metrics.registry.contentType)
      return metrics.registry.metrics()
    })
    return
  }

  // A plain server on the metrics port: nothing else is reachable there.
  const port = config.METRICS_PORT
  let server: Server | null = null
  app.addHook('onReady', async () => {
    server = createServer((req, res) => {
      const requestId = randomUUID()
      res.setHeader('x-request-id', requestId)
      if (req.method !== 'GET' || req.url?.split('?', 1)[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(errorBody('NOT_FOUND', requestId, httpError(404).message)))
        return
      }
      if (!authorized(req.headers)) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end(unauthorized(requestId))
        return
      }
      metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text), (err: Error) => {
        app.log.error({ err }, 'metrics scrape failed')
        res.writeHead(500).end()
      })
    })
    server.listen(port, config.HOST)
    await once(server, 'listening')
    app.log.info({ port }, 'metrics served on their own port')
  })
  app.addHook('onClose', async () => {
    if (server) await new Promise((resolve) => server!.close(resolve))
  })
}, { name: 'metrics' })
