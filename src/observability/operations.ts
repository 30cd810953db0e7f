// How the GraphQL operation a request runs is named in logs and metrics, worked out once per
// operation node: pinOperation (src/graphql/compat/mercurius.ts) has already picked it, once per
// distinct document and name (Mercurius reuses the parsed document from its LRU, so the node is
// the same object), and a WeakMap lets it go when Mercurius drops the document.
import type { OperationDefinitionNode } from 'graphql'
import { bounded } from '../http-errors.js'

export interface OperationInfo {
  /** query, mutation or subscription */
  type: string
  /** the name as written (cut after 100 characters), for logs and error reports; undefined for an anonymous operation */
  name: string | undefined
  /** the metric label: the name while fewer than METRICS_OPERATION_NAMES_MAX are known, else other */
  label: string
}

/**
 * Operation names as metric labels from a bounded set: the first `max` distinct names keep their
 * name; later ones and anonymous operations are `other`, so a client cannot grow the series.
 */
export function boundedNames (max: number) {
  const known = new Set<string>()
  return function label (name: string | undefined): string {
    if (!name) return 'other'
    if (known.has(name)) return name
    if (known.size >= max) return 'other'
    known.add(name)
    return name
  }
}

export function operationDescriber (label: (name: string | undefined) => string) {
  const cache = new WeakMap<OperationDefinitionNode, OperationInfo>()
  return function describe (operation: OperationDefinitionNode): OperationInfo {
    let info = cache.get(operation)
    if (!info) {
      // a name in the document is as long as the client wrote it: bounded for logs and labels
      const name = bounded(operation.name?.value)
      info = { type: operation.operation, name, label: label(name) }
      cache.set(operation, info)
    }
    return info
  }
}
