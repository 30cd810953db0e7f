// What a well-formed GraphQL-over-HTTP request is, checked before Mercurius sees it (a
// preValidation hook on the GraphQL routes, after the batch size): `query` a string (absent only
// for a persisted query's hash), `operationName` a string, `variables` and `extensions` JSON
// objects (on a GET, JSON text of one); `null` is accepted for the last three, as the
// specification says. A malformed request is 400 BAD_USER_INPUT (GRAPHQL_PARSE_FAILED when a GET's
// JSON does not parse) with `extensions.field`, under either media type. By hand because the
// route's JSON schema is Mercurius's own: ajv coerces a number or boolean operationName into a
// string, and refuses `"extensions": null`.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import mercurius from 'mercurius'
import sjson from 'secure-json-parse'
import { markWellFormed, mediaFor, setMediaType } from './http-media.js'

export interface RequestCheckOptions {
  /** PERSISTED_QUERIES is on: a request may name its document by hash, without `query` */
  persistedQueries: boolean
  /** MAX_BATCH > 0: a POST body may be an array of requests */
  batching: boolean
}

type Params = Record<string, unknown>

const isObject = (v: unknown): v is Params => typeof v === 'object' && v !== null && !Array.isArray(v)

function malformed (field: string, message: string, code = 'BAD_USER_INPUT') {
  return new mercurius.ErrorWithProps(message, { code, field }, 400)
}

/** the problem with one request's parameters, or null; removes a null `extensions` (and `query`, beside a hash) */
function paramsProblem (params: Params, persistedQueries: boolean) {
  for (const field of ['variables', 'extensions'] as const) {
    if (params[field] !== undefined && params[field] !== null && !isObject(params[field])) return malformed(field, `${field} must be an object`)
  }
  // Mercurius's schema refuses a null extensions; absent means the same
  if (params.extensions === null) delete params.extensions
  if (params.operationName !== undefined && params.operationName !== null && typeof params.operationName !== 'string') {
    return malformed('operationName', 'operationName must be a string')
  }
  const byHash = persistedQueries && isObject((params.extensions as Params | undefined)?.persistedQuery)
  if (typeof params.query !== 'string' && !(byHash && (params.query === undefined || params.query === null))) {
    return malformed('query', 'query must be a string')
  }
  if (params.query === null) delete params.query
  return null
}

function postProblem (body: unknown, { persistedQueries, batching }: RequestCheckOptions) {
  // a batch's size was checked before (src/graphql/limits); each operation is a request
  if (Array.isArray(body) && (!batching || body.length === 0)) return malformed('body', batching ? 'a batch holds one operation or more' : 'a request is a JSON object (batching is off)')
  for (const item of Array.isArray(body) ? body : [body]) {
    if (!isObject(item)) return malformed('body', 'a request is a JSON object')
    const problem = paramsProblem(item, persistedQueries)
    if (problem) return problem
  }
  return null
}

function getProblem (query: Params, persistedQueries: boolean) {
  const params: Params = {}
  for (const field of ['query', 'operationName', 'variables', 'extensions']) {
    const value = query[field]
    if (value === undefined) continue
    // a repeated parameter arrives as an array
    if (typeof value !== 'string') return malformed(field, `${field} must be given once`)
    if (field !== 'variables' && field !== 'extensions') params[field] = value
    else {
      // parsed as Mercurius parses it (secure-json-parse), which parses it again
      try {
        params[field] = sjson.parse(value)
      } catch {
        return malformed(field, `${field} must be JSON`, 'GRAPHQL_PARSE_FAILED')
      }
    }
  }
  return paramsProblem(params, persistedQueries)
}

function checkRequest (opts: RequestCheckOptions) {
  return function checkGraphqlRequest (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    const accept = request.headers.accept
    if (mediaFor(accept) === null) {
      return done(new mercurius.ErrorWithProps(`Not acceptable: answers are application/graphql-response+json or application/json (UTF-8)`, { code: 'BAD_USER_INPUT', field: 'Accept' }, 406))
    }
    const problem = request.method === 'GET'
      ? getProblem((request.query ?? {}) as Params, opts.persistedQueries)
      : postProblem(request.body, opts)
    if (problem) return done(problem)
    markWellFormed(request)
    done()
  }
}

/**
 * Adds to the GraphQL routes at `path`: the request check (406, malformed parameters) after the
 * route's other preValidation hooks, and the response's media type (src/graphql/http-media.ts).
 * Call before registering Mercurius, so its routes get them.
 */
export function graphqlOverHttp (app: FastifyInstance, { path, ...opts }: RequestCheckOptions & { path: string }) {
  const check = checkRequest(opts)
  app.addHook('onRoute', function graphqlOverHttpHooks (route) {
    if (route.url !== path || (route.method !== 'GET' && route.method !== 'POST')) return
    route.preValidation = [...[route.preValidation ?? []].flat(), check]
    route.onSend = [...[route.onSend ?? []].flat(), setMediaType]
  })
}
