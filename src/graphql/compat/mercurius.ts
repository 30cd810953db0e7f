// The one place this project relies on Mercurius 16 internals (test/graphql/mercurius-compat.test.ts
// fails loudly when an upgrade changes any of them):
// - the operationName Mercurius executes is the one in the request body (or the batch item at
//   context.operationId, or the GET query string): Mercurius gives hooks the document but not
//   the operationName, so this reads it from the same place Mercurius does;
// - a preExecution hook that returns `{ document }` makes Mercurius execute that document with
//   graphql-js's execute(), never a graphql-jit query compiled earlier for the same text, and
//   never compile one for it; a hook that returns nothing leaves the text's compiled query (its
//   `jit` option) in use;
// - context.__currentQuery is the query text Mercurius parsed (src/graphql/parsed-only.ts).
//
// Why: Mercurius 16.10.1 caches the graphql-jit compiled query per document text, compiled for
// the operationName of the request that reached the JIT threshold; a later request with the same
// text and another operationName ran that compiled operation while every check here priced and
// authorized the one it named. pinOperation picks the operation once, per request, and hands
// Mercurius a document holding only that operation (and the fragments) when the text holds more
// than one: whatever Mercurius caches or however it picks by name, the only operation that can
// run is the one every later hook sees. A text with a single operation keeps Mercurius's
// compiled query (graphql-jit), which can only be that operation.
import { Kind, type DefinitionNode, type DocumentNode, type OperationDefinitionNode, type OperationTypeNode } from 'graphql'
import type { MercuriusContext } from 'mercurius'
import { gqlError } from '../../error-codes.js'

export interface PinnedOperation {
  /** the operation that executes */
  node: OperationDefinitionNode
  name: string | undefined
  type: OperationTypeNode
  /** the document the request sent (validation keyed its depth by this object) */
  source: DocumentNode
  /** the document Mercurius executes: this operation and the document's fragments, nothing else */
  document: DocumentNode
}

declare module 'mercurius' {
  interface MercuriusContext {
    /** set by pinOperation, the first preExecution hook: the operation that executes */
    pinned?: PinnedOperation
  }
}

/** the operationName Mercurius passes to execution for this (possibly batched) request */
export function requestedOperationName (context: MercuriusContext): unknown {
  const request = context.reply?.request
  if (!request) return undefined
  const source = request.method === 'GET' ? request.query : request.body
  const item = Array.isArray(source) ? source[context.operationId ?? 0] : source
  return (item as { operationName?: unknown } | null | undefined)?.operationName
}

// per parsed document (Mercurius reuses the object from its LRU), per operation name (null = none)
const pinnedDocuments = new WeakMap<DocumentNode, Map<string | null, PinnedOperation>>()

/**
 * The operation `operationName` selects in `document`, as graphql-js's execute() selects it;
 * GRAPHQL_VALIDATION_FAILED (400) when there is none, or several and no name.
 */
function pin (document: DocumentNode, operationName: unknown): PinnedOperation {
  // graphql-js: a null or absent name selects the only operation; any string must match a name
  if (operationName != null && typeof operationName !== 'string') throw gqlError('GRAPHQL_VALIDATION_FAILED', 'operationName must be a string')
  const key = operationName ?? null
  let byName = pinnedDocuments.get(document)
  const known = byName?.get(key)
  if (known) return known
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
  const node = operationName == null
    ? (operations.length === 1 ? operations[0] : undefined)
    : operations.find((o) => o.name?.value === operationName)
  // the name is not echoed: it is the client's string, of any length
  if (!node) {
    throw gqlError('GRAPHQL_VALIDATION_FAILED', operationName == null
      ? 'Must provide operationName when the document contains several operations'
      : 'The document has no operation of the requested operationName')
  }
  const definitions: DefinitionNode[] = document.definitions.filter((d) => d.kind !== Kind.OPERATION_DEFINITION || d === node)
  const pinned: PinnedOperation = { node, name: node.name?.value, type: node.operation, source: document, document: { ...document, definitions } }
  if (!byName) pinnedDocuments.set(document, byName = new Map())
  byName.set(key, pinned)
  return pinned
}

/**
 * The first preExecution hook: picks the operation and makes it the only one Mercurius can run.
 * A document with one operation is left as it is: the request either names that operation or
 * none (pin() refused anything else above), so whatever Mercurius runs for this text, graphql-jit's
 * compiled query included, is the operation pinned here. A document with several operations is
 * replaced by the pinned one, which Mercurius runs with graphql-js, never a compiled query.
 */
export function pinOperation (_schema: unknown, document: DocumentNode, context: MercuriusContext) {
  const pinned = pin(document, requestedOperationName(context))
  context.pinned = pinned
  if (pinned.document.definitions.length === document.definitions.length) return undefined
  return { document: pinned.document }
}

/** the operation pinOperation chose; a hook registered before it is a wiring defect */
export function pinnedOperation (context: MercuriusContext): PinnedOperation {
  if (!context.pinned) throw new Error('pinOperation must be the first preExecution hook')
  return context.pinned
}

/** the query text Mercurius parsed for this request */
export function currentQueryText (context: MercuriusContext): unknown {
  return (context as { __currentQuery?: unknown }).__currentQuery
}

/**
 * An onRoute hook for Mercurius's routes at `path`: its response schema serializes each error's
 * path as strings, while GraphQL wants list indices as integers; this widens the item type on a
 * copy of the route's schema (batched POST routes have no response schema and are left alone).
 */
export function integerErrorPaths (path: string) {
  type Errors = { items: { properties: Record<string, unknown> } }
  type ResponseSchema = { '2xx'?: { properties?: { errors?: Errors } } }
  return (route: import('fastify').RouteOptions) => {
    if (route.url !== path || !(route.schema?.response as ResponseSchema | undefined)?.['2xx']?.properties?.errors) return
    route.schema = structuredClone(route.schema)
    const errors = (route.schema!.response as ResponseSchema)['2xx']!.properties!.errors!
    errors.items.properties.path = { type: 'array', items: { type: ['string', 'integer'] } }
  }
}

/**
 * A persisted query provider as Mercurius takes it. Its type is narrower than its code in two ways
 * the providers here rely on: getHash may return false for a request that names no usable hash
 * (its documentation: "or falsy if this request format is not supported"), and
 * isPersistedQueryRetry may be absent (its routes test it before calling it; trusted documents
 * have no retry).
 */
export function persistedQueryProvider (provider: Omit<MercuriusPersistedQueryProvider, 'getHash' | 'isPersistedQueryRetry'> & {
  getHash: (request: Parameters<MercuriusPersistedQueryProvider['getHash']>[0]) => string | false
  isPersistedQueryRetry?: MercuriusPersistedQueryProvider['isPersistedQueryRetry']
}): MercuriusPersistedQueryProvider {
  return provider as MercuriusPersistedQueryProvider
}
type MercuriusPersistedQueryProvider = import('mercurius').PersistedQueryProvider
