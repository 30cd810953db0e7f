// What one domain module (src/domain/<name>/) hands the infrastructure, and the types the
// registry (src/domain/index.ts) is folded into. Nothing here knows which domains exist: adding
// one is a folder and a line in the registry.
import type { Cache } from '../cache/two-level.js'
import type { Queryable } from '../db/database.js'
import * as registry from '../domain/index.js'

export interface Domain<Repos extends object = object, Tx extends object = object> {
  name: string
  /** the domain's SDL file, read at start (src/graphql/schema.ts) */
  typeDefs: string
  /** resolvers by type name (Query, Mutation, ...), merged with every other domain's */
  resolvers: { [type: string]: object }
  /** Mercurius loaders by type name, merged the same way */
  loaders?: object
  /** what goes on the GraphQL context: the domain's repositories, their reads cached */
  repositories (db: Queryable, cache: Cache): Repos
  /** the repositories a creating write uses inside its Idempotency-Key's transaction (src/graphql/idempotency.ts) */
  transactional (tx: Queryable): Tx
  /** business counters (src/observability/business.ts), by the key resolvers count with */
  counters?: Record<string, { name: string, help: string }>
  /** codegen mappers: GraphQL type -> the row a resolver returns, `./<name>/<file>.js#Type` from src/domain/ */
  mappers?: Record<string, string>
  /** GraphiQL's opening query, when this domain is the first to give one */
  exampleQuery?: string
}

/** every domain the registry lists (src/domain/index.ts), by name: the same order wherever it is loaded from */
export const domains = Object.values(registry).sort((a, b) => a.name.localeCompare(b.name))

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never

/** what every domain puts on the context, as one type */
export type ContextOf<D extends readonly Domain<object, object>[]> = UnionToIntersection<ReturnType<D[number]['repositories']>>
/** every domain's transaction-bound repositories, as one type */
export type TransactionalOf<D extends readonly Domain<object, object>[]> = UnionToIntersection<ReturnType<D[number]['transactional']>>

/** Type by type, the fields of every domain's map: { Query: { ...a.Query, ...b.Query }, ... }, a field defined twice refused. */
export function mergeByType (maps: ReadonlyArray<object | undefined>): Record<string, Record<string, unknown>> {
  const merged: Record<string, Record<string, unknown>> = {}
  for (const map of maps) {
    for (const [type, fields] of Object.entries(map ?? {}) as Array<[string, object]>) {
      for (const field of Object.keys(fields)) {
        if (merged[type] && field in merged[type]) throw new Error(`two domains define ${type}.${field}`)
      }
      merged[type] = { ...merged[type], ...fields }
    }
  }
  return merged
}

/** A memory hit is answered without a promise, so a cached read may return the value itself. */
export type MaybePromise<T> = T | Promise<T>
