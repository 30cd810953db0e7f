// Query cost with graphql-query-complexity (https://github.com/slicknode/graphql-query-complexity)
// and SPEC's model: every field costs 1; a list field costs 1 + limit x (the cost of its
// selection), with the argument's default when omitted and the request's variable values.
// Mercurius refuses validation rules that read variables while its document cache is on, so this
// runs before execution (a preExecution hook), and for an operation without variables (the common
// case) the cost is kept per document object, which mercurius reuses from its LRU cache.
import { getNullableType, GraphQLError, isListType, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql'
import { getComplexity, type ComplexityEstimatorArgs } from 'graphql-query-complexity'
import { gqlError } from '../../errors.js'
import { rules } from '../validation.js'
import { MAX_EXPANDED_FIELDS } from './depth.js'

// A limit beyond what the resolvers accept is refused by them (BAD_USER_INPUT), and a negative
// one must not lower the cost of the rest of the document: the multiplier stays in 0..max page.
const PAGE_MAX = rules.limit.maxValue ?? 100

export function estimator ({ field, args, childComplexity }: ComplexityEstimatorArgs): number {
  if (!isListType(getNullableType(field.type))) return 1 + childComplexity
  const limit = typeof args.limit === 'number' ? Math.min(Math.max(args.limit, 0), PAGE_MAX) : 1
  return 1 + limit * childComplexity
}

const cached = new WeakMap<DocumentNode, Map<string, number>>()

/** The cost of `operation` in `document`; throws BAD_USER_INPUT (variables) or QUERY_TOO_COMPLEX (size). */
export function operationCost (schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): number {
  const name = operation.name?.value
  const constant = !operation.variableDefinitions?.length
  const key = name ?? ''
  if (constant) {
    const cost = cached.get(document)?.get(key)
    if (cost !== undefined) return cost
  }
  let cost: number
  try {
    // an anonymous operation is the document's only one (LoneAnonymousOperation)
    cost = getComplexity({ schema, query: document, variables, operationName: name, estimators: [estimator], maxQueryNodes: MAX_EXPANDED_FIELDS })
  } catch (err) {
    // variable values of the wrong type: the formatter answers 400 BAD_USER_INPUT
    if (err instanceof GraphQLError && err.message.startsWith('Variable "')) throw err
    if (err instanceof GraphQLError && /maximum allowed number of nodes/.test(err.message)) {
      throw gqlError('QUERY_TOO_COMPLEX', `Query selects more than ${MAX_EXPANDED_FIELDS} fields`, { cost: MAX_EXPANDED_FIELDS + 1, limit: MAX_EXPANDED_FIELDS })
    }
    throw err
  }
  if (constant) {
    let byName = cached.get(document)
    if (!byName) cached.set(document, byName = new Map())
    byName.set(key, cost)
  }
  return cost
}
