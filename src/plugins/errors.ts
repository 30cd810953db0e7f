// The edge: what a request must pass before any expensive work, and the one error shape outside
// GraphQL (src/http-errors.ts).
// - JSON bodies deeper than JSON_MAX_DEPTH are refused before they are parsed (src/json-depth.ts):
//   400 QUERY_TOO_LARGE, limit jsonDepth.
// - Names longer than NAME_MAX, in the operationName or the document (POST, batched or GET), are
//   refused before Mercurius parses or looks them up (src/request-bounds.ts): 400 QUERY_TOO_LARGE.
// - The app's error handler and not-found handler: own messages and codes, the request id, the
//   security headers (set in onRequest, so already on the reply). Mercurius keeps its own error
//   handler for the GraphQL route (src/graphql/error-formatter.ts formats those).
// - A client that closes the connection before its response (mid-body included) is logged and
//   counted as a client abort (http_client_aborts_total), not as a server failure.
// Malformed HTTP that never becomes a request (400, 408, 431 from Node's parser) is answered by
// clientErrorHandler (src/client-error.ts), a server option in src/server-options.ts.
import fp from 'fastify-plugin'
import type { FastifyError } from 'fastify'
import { errorBody, httpError, knownCode } from '../http-errors.js'
import { deeperThan } from '../json-depth.js'
import { requestBounds, tooLarge } from '../request-bounds.js'

export interface ErrorsOptions { graphqlPath: string }

/** arrays and objects a JSON body may nest (GraphQL variables of this schema need a handful) */
export const JSON_MAX_DEPTH = 64

export default fp<ErrorsOptions>(async function errorsPlugin (app, { graphqlPath }) {
  // Fastify's own JSON parser (secure-json-parse, __proto__ and constructor refused) behind the depth check
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (deeperThan(body as string, JSON_MAX_DEPTH)) {
      done(tooLarge('jsonDepth', `JSON nested deeper than ${JSON_MAX_DEPTH} levels`), undefined)
      return
    }
    parseJson(request, body as string, done)
  })

  app.addHook('preValidation', requestBounds(graphqlPath))

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    const known = knownCode(err)
    if (known) {
      const { code: _, ...extensions } = known.extensions
      return reply.code(status).send(errorBody(known.code, request.id, err.message, extensions))
    }
    const { code, message, limit } = httpError(status, err.code)
    if (status >= 500) {
      // a defect: logged in full with the request id, reported; the client sees only the code
      request.log.error({ err }, 'unexpected error')
      app.reportError(err, { reply })
    }
    return reply.code(status).send(errorBody(code, request.id, message, limit ? { limit } : {}))
  })

  app.setNotFoundHandler((request, reply) => {
    const { code, message } = httpError(404)
    return reply.code(404).send(errorBody(code, request.id, message))
  })

  // Fastify listens for 'close' on each request only because this hook exists; the request log
  // line is not written for a response that was never sent, so this is the abort's record.
  app.addHook('onRequestAbort', function countClientAbort (request, done) {
    app.metrics.clientAborts.inc()
    request.log.info({ event: 'client_aborted', method: request.method, route: request.routeOptions.url ?? 'unmatched' }, 'client closed the connection before the response')
    done()
  })
}, { name: 'errors', dependencies: ['metrics', 'error-tracking'], decorators: { fastify: ['metrics', 'reportError'] } })
