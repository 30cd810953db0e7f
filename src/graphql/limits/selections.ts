// graphql's OverlappingFieldsCanBeMergedRule compares every pair of fields that share a response
// name in a selection set: `{ items { id } items { id } ... }` repeated 490 times (a 5 KB document)
// took ~220 ms of CPU before graphql gave up, and a random comment defeats the parse cache, so each
// request paid it again. Repeating a response name has no use beyond a few fragments selecting the
// same field, so a selection set may repeat one at most MAX_REPEATS times: QUERY_TOO_LARGE
// (limit "fields") before validation. A preValidation hook runs once per distinct document.
import { Kind, visit, type DocumentNode } from 'graphql'
import { gqlError } from '../../error-codes.js'

const MAX_REPEATS = 10

export async function repeatedFieldsLimit (_schema: unknown, document: DocumentNode) {
  visit(document, {
    SelectionSet (node) {
      const seen = new Map<string, number>()
      for (const s of node.selections) {
        if (s.kind !== Kind.FIELD) continue
        const name = s.alias?.value ?? s.name.value
        const n = (seen.get(name) ?? 0) + 1
        if (n > MAX_REPEATS) throw gqlError('QUERY_TOO_LARGE', `A selection repeats a field more than ${MAX_REPEATS} times`, { limit: 'fields', max: MAX_REPEATS })
        seen.set(name, n)
      }
    }
  })
}
