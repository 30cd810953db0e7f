// Exactly one JSON line per request, written when the response has been sent: request id
// (reqId, from the logger's child bindings), method, route, status, duration, the GraphQL
// operation and the caller's subject. Fastify's own "incoming request" / "request completed" pair
// is replaced through its LogController (https://fastify.dev/docs/latest/Reference/Server/#logcontroller),
// so no extra hook runs per request. Routes registered with logLevel 'warn' (/health, /ready,
// /metrics) are not logged at info; their 5xx still are (at warn).
import { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { Level } from 'pino'
import { bounded } from '../http-errors.js'
import type { OperationInfo } from './operations.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** the GraphQL operation this request ran (set by src/observability/graphql.ts), for logs and metrics */
    graphqlOperation: OperationInfo | null
  }
}

type LevelLogger = FastifyBaseLogger & { isLevelEnabled?: (level: Level) => boolean }

/** pino's isLevelEnabled (Fastify's logger type omits it); any other logger: always */
export function enabled (log: FastifyBaseLogger, level: Level): boolean {
  // checked before any object is built: a line below the level costs one comparison
  const l = log as LevelLogger
  return l.isLevelEnabled ? l.isLevelEnabled(level) : true
}

export class RequestLogController extends LogController {
  constructor () {
    super({ disableRequestLogging: false })
  }

  // Only at debug: the completion line carries everything, and one line per request is the budget.
  override incomingRequest (request: FastifyRequest) {
    const log = request.log
    if (!enabled(log, 'debug')) return
    log.debug({ method: request.method, route: request.routeOptions.url ?? 'unmatched' }, 'incoming request')
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply) {
    const status = reply.statusCode
    const level: Level = error ? 'error' : status >= 500 ? 'warn' : 'info'
    const log = request.log
    if (!enabled(log, level)) return
    const route = request.routeOptions.url
    const op = request.graphqlOperation
    log[level]({
      method: request.method,
      route: route ?? 'unmatched',
      // the path only (never the query string: a GET /graphql carries variables there)
      path: route === undefined ? bounded(request.url.split('?', 1)[0], 200) : undefined,
      statusCode: status,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      operationName: op?.name,
      operationType: op?.type,
      sub: bounded(request.caller?.sub),
      err: error ?? undefined
    }, error ? 'request errored' : 'request completed')
  }

  // The completion line already says 404 with route "unmatched".
  override routeNotFound () {}
}
