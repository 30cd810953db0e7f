// GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/): the response's media
// type follows the request's Accept, and its status follows the media type.
// - application/graphql-response+json: every request error is a 4xx (400 for parse, validation,
//   variable coercion and the server's own limits; the statuses 401, 405, 406, 413, 415, 429 and
//   503 as they are); a response without `data` is never a 2xx.
// - application/json, and a request without Accept (what clients written before the
//   specification send): the legacy rules. A well-formed request (src/graphql/http-request.ts) is
//   answered 200 whatever GraphQL request error it raises; a malformed one (not JSON, a parameter
//   of the wrong type) 400; the other statuses as above.
// - neither acceptable: 406, as the specification recommends.
// Batched requests (outside the specification) are answered as application/json.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { LRUCache } from 'lru-cache'
import Negotiator from 'negotiator'

export const GRAPHQL_RESPONSE = 'application/graphql-response+json'
export type Media = 'graphql-response' | 'json'

// server preference first: */* and application/* get application/json; a charset other than
// UTF-8 matches nothing
const AVAILABLE = ['application/json', GRAPHQL_RESPONSE, 'application/json;charset=utf-8', `${GRAPHQL_RESPONSE};charset=utf-8`]
// clients send the same few Accept values: negotiate each once
const negotiated = new LRUCache<string, Media | 'none'>({ max: 256 })

/** the media type a request's Accept asks for; null when it accepts neither */
export function mediaFor (accept: string | undefined): Media | null {
  if (accept === undefined || accept === '') return 'json'
  let media = negotiated.get(accept)
  if (media === undefined) {
    const type = new Negotiator({ headers: { accept } }).mediaType(AVAILABLE)
    media = type === undefined ? 'none' : type.startsWith(GRAPHQL_RESPONSE) ? 'graphql-response' : 'json'
    if (accept.length <= 256) negotiated.set(accept, media)
  }
  return media === 'none' ? null : media
}

// requests whose parameters were checked: from here on, a 400 is a GraphQL request error
const wellFormed = new WeakSet<FastifyRequest>()

export function markWellFormed (request: FastifyRequest) {
  wellFormed.add(request)
}

/**
 * The HTTP status of a GraphQL response. `status` is the one the error table gives the first
 * error (200 once execution started), `code` that error's code.
 */
export function responseStatus (request: FastifyRequest, status: number, executed: boolean, code: string | undefined): number {
  if (executed) return status
  if (mediaFor(request.headers.accept) === 'graphql-response') {
    if (status >= 400) return status
    // errors raised before execution with a 200 in the table (SERVICE_READ_ONLY, a switched-off
    // feature). An unknown APQ hash is 404, as Apollo's router answers it: Apollo Client then
    // sends the full query and keeps using persisted queries (a 400 would turn them off).
    return code === 'PERSISTED_QUERY_NOT_FOUND' ? 404 : 400
  }
  return status === 400 && wellFormed.has(request) ? 200 : status
}

function appendVary (reply: FastifyReply, name: string) {
  const vary = reply.getHeader('vary')
  if (vary === undefined) reply.header('vary', name)
  else if (!String(vary).toLowerCase().split(/\s*,\s*/).includes(name.toLowerCase())) reply.header('vary', `${String(vary)}, ${name}`)
}

/** onSend of the GraphQL routes: the media type (and Vary: Accept) */
export function setMediaType (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) {
  // caches must keep one answer per Accept
  appendVary(reply, 'Accept')
  if (mediaFor(request.headers.accept) === 'graphql-response' && !Array.isArray(request.body)) {
    const type = reply.getHeader('content-type')
    if (typeof type === 'string' && type.startsWith('application/json')) reply.header('content-type', `${GRAPHQL_RESPONSE}; charset=utf-8`)
  }
  done(null, payload)
}
