// Query depth with graphql-depth-limit (https://github.com/stems/graphql-depth-limit), counted as
// docs/security.md says (the root field is depth 0), as a validation rule: mercurius caches validation, so it
// runs once per distinct document. graphql-depth-limit 1.1.0 has defects this wrapper keeps away:
// - a spread of an undefined fragment throws TypeError, a fragment cycle overflows the stack:
//   such documents skip the depth check and graphql's own rules report them (400
//   GRAPHQL_VALIDATION_FAILED);
// - it walks fragments without memoising, so fragments that spread the next one twice take 2^n
//   steps (seconds of blocked event loop from a 1 kB document): a document that expands to more
//   than MAX_EXPANDED_FIELDS fields is refused first as QUERY_TOO_COMPLEX (each field costs >= 1);
// - it reports one error per too-deep branch, without a code: this reports one, with its code.
// It is handed a ValidationContext of its own (graphql-js's public constructor) whose onError
// does that, so nothing here imitates graphql-js's internals.
import depthLimit from 'graphql-depth-limit'
import {
  GraphQLError, Kind, TypeInfo, ValidationContext, type ASTVisitor, type DocumentNode,
  type FragmentDefinitionNode, type SelectionSetNode
} from 'graphql'

/** also graphql-query-complexity's node limit, so the cost computation never throws on size */
export const MAX_EXPANDED_FIELDS = 10_000

// depth per operation name ('' = anonymous) of each validated document, for context.cost
const depths = new WeakMap<DocumentNode, Record<string, number>>()

/** the depth validation measured for this document's operation (undefined: not validated here) */
export function documentDepth (document: DocumentNode, operationName?: string | null): number | undefined {
  const byName = depths.get(document)
  if (!byName) return undefined
  const depth = operationName ? byName[operationName] : Object.values(byName)[0]
  return Number.isFinite(depth) ? depth : undefined
}

/**
 * How many fields the document's operations select once fragments are expanded (memoised per
 * fragment); null when a spread names an undefined fragment or fragments form a cycle.
 */
function expandedFields (document: DocumentNode): number | null {
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d)
  const sizes = new Map<string, number | 'visiting'>()
  function sizeOf (set: SelectionSetNode): number | null {
    let total = 0
    for (const s of set.selections) {
      let n: number | null
      if (s.kind === Kind.FIELD) n = s.selectionSet ? add(1, sizeOf(s.selectionSet)) : 1
      else if (s.kind === Kind.INLINE_FRAGMENT) n = sizeOf(s.selectionSet)
      else {
        const known = sizes.get(s.name.value)
        if (known === 'visiting') return null
        if (known !== undefined) n = known
        else {
          const fragment = fragments.get(s.name.value)
          if (!fragment) return null
          sizes.set(s.name.value, 'visiting')
          n = sizeOf(fragment.selectionSet)
          if (n === null) return null
          sizes.set(s.name.value, n)
        }
      }
      if (n === null) return null
      total += n
    }
    return total
  }
  let total = 0
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue
    const n = sizeOf(d.selectionSet)
    if (n === null) return null
    total += n
  }
  return total
}

function add (a: number, b: number | null): number | null {
  return b === null ? null : a + b
}

/** The depth rule; maxDepth 0 measures without limiting (for the graphql_query_depth metric). */
export function depthRule (maxDepth: number, maxComplexity: number) {
  const limit = maxDepth > 0 ? maxDepth : Infinity
  return function depthLimitRule (context: ValidationContext): ASTVisitor {
    const document = context.getDocument()
    const fields = expandedFields(document)
    // undefined fragments and cycles: graphql's KnownFragmentNames and NoFragmentCycles report them
    if (fields === null) return {}
    if (fields > MAX_EXPANDED_FIELDS) {
      context.reportError(new GraphQLError(`Query selects more than ${MAX_EXPANDED_FIELDS} fields`, {
        extensions: { code: 'QUERY_TOO_COMPLEX', cost: fields, limit: maxComplexity > 0 ? maxComplexity : MAX_EXPANDED_FIELDS }
      }))
      return {}
    }
    let reported = false
    const schema = context.getSchema()
    const own = new ValidationContext(schema, document, new TypeInfo(schema), (e) => {
      if (reported) return
      reported = true
      context.reportError(new GraphQLError(`Query is deeper than ${maxDepth}`, {
        nodes: e.nodes, extensions: { code: 'QUERY_TOO_DEEP', limit: maxDepth }
      }))
    })
    depthLimit(limit, {}, (byName: Record<string, number>) => { depths.set(document, byName) })(own)
    return {}
  }
}
