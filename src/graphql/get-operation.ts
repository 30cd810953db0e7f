// Mercurius refuses a mutation over GET by reading getOperationAST(document, operationName)
// .operation, which throws a TypeError (a 500, found by test/resilience/fuzz.test.ts) when the
// document has no operation of that name, or several and no name. A GET is checked first: its
// operation must exist, else 400 GRAPHQL_VALIDATION_FAILED as for a POST. The operation names are
// read once per distinct document (a small LRU); POST requests never come here.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { parse, type ParseOptions } from 'graphql'
import { LRUCache } from 'lru-cache'
import { gqlError } from '../errors.js'

interface GetQuery { query?: unknown, operationName?: unknown }

export function getOperationCheck (parseOptions: ParseOptions) {
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
  return function checkGetOperation (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    const { query, operationName } = (request.query ?? {}) as GetQuery
    if (typeof query !== 'string') return done()
    const ops = operationsOf(query)
    if (ops === false) return done()
    const found = typeof operationName === 'string' ? ops.includes(operationName) : ops.length === 1
    if (found) return done()
    done(gqlError('GRAPHQL_VALIDATION_FAILED', typeof operationName === 'string'
      ? `Unknown operation named "${operationName}".`
      : 'Must provide operation name if query contains multiple operations.'))
  }
}
