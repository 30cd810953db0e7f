// Document limits that graphql-js has no option for: aliases and directives per document (an
// alias flood runs one resolver per alias; a directive flood makes validation itself work hard).
// Tokens are graphql's own parse option (maxTokens) and the batch size a route hook; all of them
// answer 400 QUERY_TOO_LARGE with extensions.limit naming the limit and extensions.max its value.
import { GraphQLError, type ASTVisitor, type ValidationContext } from 'graphql'
import { gqlError } from '../../error-codes.js'

export type DocumentLimit = 'aliases' | 'directives' | 'tokens' | 'batch' | 'body'

function tooLarge (limit: DocumentLimit, max: number) {
  return { code: 'QUERY_TOO_LARGE', limit, max }
}

/** A validation rule reporting (once) a document with more than `max` aliases or directives. */
export function countRule (limit: 'aliases' | 'directives', max: number) {
  return function documentLimitRule (context: ValidationContext): ASTVisitor {
    let count = 0
    // reported as soon as it is passed, so it comes before the errors the rest of the flood causes
    const over = () => {
      if (++count === max + 1) {
        context.reportError(new GraphQLError(`Query has more than ${max} ${limit}`, { extensions: tooLarge(limit, max) }))
      }
    }
    return limit === 'aliases'
      ? { Field (node) { if (node.alias) over() } }
      : { Directive: over }
  }
}

/** The error for a batched request with more operations than MAX_BATCH (0 = batching off). */
export function batchTooLarge (max: number) {
  return gqlError('QUERY_TOO_LARGE', `Batch has more than ${max} operations`, { limit: 'batch', max })
}
