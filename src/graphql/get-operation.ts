// Mercurius refuses a mutation over GET by reading getOperationAST(document, operationName)
// .operation, which throws a TypeError (a 500, found by test/resilience/fuzz.test.ts and by a
// probe with a persisted query's hash) when the document has no operation of that name, or
// several and no name. A GET is checked first: its operation must exist, else 400
// GRAPHQL_VALIDATION_FAILED as for a POST; a GET that names a persisted query by its hash is
// checked on the document the hash stands for. Mercurius only guards GET: a HEAD of the same
// URL would run a mutation, so HEAD is refused (405) on the GraphQL route.
// The operation names are read once per distinct document (a small LRU); POST requests never come here.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { parse, type ParseOptions } from 'graphql'
import { LRUCache } from 'lru-cache'
import { gqlError } from '../error-codes.js'
import { errorBody } from '../http-errors.js'

interface GetQuery { query?: unknown, operationName?: unknown, extensions?: unknown }

/** the document a persisted query's hash stands for (the persisted-query provider's lookup) */
export type PersistedLookup = (hash: string) => Promise<string | undefined>

function persistedHash (extensions: unknown): string | undefined {
  if (typeof extensions !== 'string') return undefined
  try {
    const hash = (JSON.parse(extensions) as { persistedQuery?: { sha256Hash?: unknown } } | null)?.persistedQuery?.sha256Hash
    return typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash) ? hash : undefined
  } catch {
    return undefined // Mercurius reports the malformed extensions
  }
}

export function getOperationCheck (parseOptions: ParseOptions, persisted?: PersistedLookup) {
  // operation names of a document (null: anonymous), or false when it does not parse
  const documents = new LRUCache<string, Array<string | null> | false>({ max: 1000 })
  function operationsOf (query: string) {
    let ops = documents.get(query)
    if (ops === undefined) {
      try {
        ops = parse(query, parseOptions).definitions.flatMap((d) => d.kind === 'OperationDefinition' ? [d.name?.value ?? null] : [])
      } catch {
        ops = false // Mercurius reports the syntax error
      }
      documents.set(query, ops)
    }
    return ops
  }
  function check (query: string, operationName: unknown) {
    const ops = operationsOf(query)
    if (ops === false) return undefined
    const found = typeof operationName === 'string' ? ops.includes(operationName) : ops.length === 1
    if (found) return undefined
    // the name is the client's string: not echoed
    return gqlError('GRAPHQL_VALIDATION_FAILED', typeof operationName === 'string'
      ? 'The document has no operation of the requested operationName'
      : 'Must provide operationName when the document contains several operations')
  }
  return function checkGetOperation (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    if (request.method === 'HEAD') {
      reply.code(405).header('allow', 'GET, POST').send(errorBody('BAD_USER_INPUT', request.id, 'Method not allowed'))
      return
    }
    const { query, operationName, extensions } = (request.query ?? {}) as GetQuery
    if (typeof query === 'string') return done(check(query, operationName))
    const hash = persisted && persistedHash(extensions)
    if (!hash) return done()
    persisted!(hash).then((document) => done(document === undefined ? undefined : check(document, operationName)), () => done())
  }
}
