// Which GraphQL operation a request runs, worked out once per distinct document (Mercurius keeps
// parsed documents in an LRU, so the same query string yields the same DocumentNode object) and
// kept in a WeakMap that lets a document go when Mercurius drops it.
import { getOperationAST, type DocumentNode } from 'graphql'
import { bounded } from '../http-errors.js'

export interface OperationInfo {
  /** query, mutation or subscription (unknown when the document names no such operation) */
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
  const cache = new WeakMap<DocumentNode, Map<string, OperationInfo>>()
  return function describe (document: DocumentNode, operationName: string | undefined): OperationInfo {
    let byName = cache.get(document)
    if (!byName) {
      byName = new Map()
      cache.set(document, byName)
    }
    const key = operationName ?? ''
    let info = byName.get(key)
    if (!info) {
      const op = getOperationAST(document, operationName)
      // a name in the document is as long as the client wrote it: bounded for logs and labels
      const name = bounded(op?.name?.value)
      info = { type: op?.operation ?? 'unknown', name, label: label(name) }
      byName.set(key, info)
    }
    return info
  }
}
