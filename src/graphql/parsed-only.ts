// Mercurius falls back, when a query does not parse, to reading the query text as a JSON-encoded
// AST (and takes a non-string query as an AST): an unchecked structure that crashes graphql's
// validation (a 500, found by test/resilience/fuzz.test.ts with `{"query":"{}"}`) and skips the
// parser's own limits (MAX_TOKENS). Only a document that graphql parsed from the query text
// itself goes on. A preValidation hook runs once per distinct document (on a parse-cache miss).
import type { DocumentNode } from 'graphql'
import type { MercuriusContext } from 'mercurius'
import { gqlError } from '../error-codes.js'
import { currentQueryText } from './compat/mercurius.js'

export async function parsedDocumentsOnly (_schema: unknown, document: DocumentNode, context: MercuriusContext) {
  const text = currentQueryText(context)
  // a parsed document points back at its source text; a JSON one cannot contain itself
  if (typeof text === 'string' && (document as DocumentNode | null)?.loc?.source?.body === text) return
  throw gqlError('GRAPHQL_PARSE_FAILED')
}
