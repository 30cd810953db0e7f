// Bounds on what a GraphQL request names, checked on the body before Mercurius parses, validates
// or looks anything up: a name is echoed in graphql's messages ("Cannot query field ...",
// "Unknown operation named ...") and carried by logs and metric labels, and graphql's validation
// measures an unknown field's name against every known one for its suggestions (a 900 KB name
// cost half a second of event loop). A name (operation, field, alias, argument, fragment,
// variable) or the request's operationName longer than NAME_MAX is refused: 400 QUERY_TOO_LARGE.
import type { FastifyRequest, preValidationHookHandler } from 'fastify'
import { Lexer, Source, TokenKind } from 'graphql'
import mercurius from 'mercurius'

/** characters of any name in a request */
export const NAME_MAX = 100

// a run of NAME_MAX + 1 name characters: rare in real documents, so most requests stop at this
// regular expression; a match may be inside a string or a comment, which graphql's own lexer tells
const LONG_RUN = new RegExp(`[_0-9A-Za-z]{${NAME_MAX + 1}}`)

// tokens looked at, at most: past the parser's token limit (MAX_TOKENS) the parser refuses anyway
const TOKENS_SCANNED = 10_000

/** true when the document holds a name longer than NAME_MAX (an unlexable document is left to the parser) */
function hasLongName (query: string): boolean {
  if (!LONG_RUN.test(query)) return false
  const lexer = new Lexer(new Source(query))
  try {
    let n = 0
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF && n++ < TOKENS_SCANNED; token = lexer.advance()) {
      if (token.kind === TokenKind.NAME && token.value.length > NAME_MAX) return true
    }
  } catch {
    return false
  }
  return false
}

export const tooLarge = (limit: string, message: string) =>
  new mercurius.ErrorWithProps(message, { code: 'QUERY_TOO_LARGE', limit }, 400)

function check (entry: unknown): Error | null {
  const { operationName, query } = (entry ?? {}) as { operationName?: unknown, query?: unknown }
  if (typeof operationName === 'string' && operationName.length > NAME_MAX) {
    return tooLarge('operationName', `operationName is longer than ${NAME_MAX} characters`)
  }
  if (typeof query === 'string' && hasLongName(query)) return tooLarge('name', `The query holds a name longer than ${NAME_MAX} characters`)
  return null
}

/** preValidation hook for every route: checks the GraphQL route's requests (POST, batched, GET) */
export function requestBounds (graphqlPath: string): preValidationHookHandler {
  return function boundRequest (request: FastifyRequest, _reply, done) {
    if (request.routeOptions.url !== graphqlPath) return done()
    const source = request.method === 'GET' ? request.query : request.body
    for (const entry of Array.isArray(source) ? source : [source]) {
      const err = check(entry)
      if (err) return done(err)
    }
    done()
  }
}
