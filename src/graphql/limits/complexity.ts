// Query cost with graphql-query-complexity (https://github.com/slicknode/graphql-query-complexity).
// The model (docs/security.md): a field costs its weight (1, or @cost(weight:) on its definition:
// mutations weigh more, so a write flood spends the budget faster than reads); a list field costs
//   weight + limit x (the cost of its selection) + ceil(offset / OFFSET_ROWS_PER_POINT)
// with the page that runs: an omitted or null argument is its default (pageArgs, shared with the
// resolvers), and skipped rows are priced because PostgreSQL reads every row it skips.
// Mercurius refuses validation rules that read variables while its document cache is on, so this
// runs before execution (a preExecution hook), and for an operation without variables (the common
// case) the cost is kept per document object, which mercurius reuses from its LRU cache.
import { getNullableType, GraphQLError, isListType, Kind, type DocumentNode, type GraphQLField, type GraphQLSchema, type OperationDefinitionNode } from 'graphql'
import { getComplexity, type ComplexityEstimatorArgs } from 'graphql-query-complexity'
import { gqlError } from '../../error-codes.js'
import { pageArgs, rules } from '../validation.js'
import { MAX_EXPANDED_FIELDS } from './depth.js'

// A limit or offset beyond what the resolvers accept is refused by them (BAD_USER_INPUT), and a
// negative one must not lower the cost of the rest of the document: each stays in its valid range.
const PAGE_MAX = rules.limit.maxValue ?? 100
const OFFSET_MAX = rules.offset.maxValue ?? 100_000
/** rows skipped by OFFSET per cost point: a skipped row is read (by index) but not returned */
export const OFFSET_ROWS_PER_POINT = 10

const clamp = (value: unknown, max: number, fallback: number) =>
  typeof value === 'number' && Number.isFinite(value) ? Math.min(Math.max(Math.trunc(value), 0), max) : fallback

const weights = new WeakMap<object, number>()

/** @cost(weight: Int!) on the field's definition, else 1 */
function weightOf (field: GraphQLField<unknown, unknown>): number {
  let weight = weights.get(field)
  if (weight === undefined) {
    const arg = field.astNode?.directives?.find((d) => d.name.value === 'cost')?.arguments?.find((a) => a.name.value === 'weight')
    weight = arg?.value.kind === Kind.INT ? Number(arg.value.value) : 1
    weights.set(field, weight)
  }
  return weight
}

function estimator ({ field, args, childComplexity }: ComplexityEstimatorArgs): number {
  const weight = weightOf(field)
  if (!isListType(getNullableType(field.type))) return weight + childComplexity
  // a list without a limit argument is priced as a full page: every list in the schema is paged
  if (!field.args.some((a) => a.name === 'limit')) return weight + PAGE_MAX * childComplexity
  const p = pageArgs(args)
  const limit = clamp(p.limit, PAGE_MAX, PAGE_MAX)
  const offset = clamp(p.offset, OFFSET_MAX, OFFSET_MAX)
  return weight + limit * childComplexity + Math.ceil(offset / OFFSET_ROWS_PER_POINT)
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
    // graphql-js and graphql-query-complexity raise plain GraphQLErrors (no class or code of their
    // own), so their wording is what tells these apart.
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
