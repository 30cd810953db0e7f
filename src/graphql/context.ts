// What every resolver receives. Mercurius merges this into its own context (app, reply, ...).
// Each domain adds its repositories (src/domain/index.ts): the type is assembled from the registry.
import type { IdempotencyRepository } from '../db/repositories/idempotency.js'
import type { ContextOf, domains } from './domain.js'

export interface Caller {
  sub: string
  roles: readonly string[]
}

/** every domain's repositories, reads cached (each domain's `repositories`) */
export type DomainContext = ContextOf<typeof domains>

export interface Context extends DomainContext {
  caller: Caller | null
  requestId: string
  /** after a committed write: drop what it made stale, here and on every instance (each domain's staleAfter) */
  invalidate (tags: string[]): Promise<void>
  idempotency: IdempotencyRepository
  /** performance.now() after which the request has timed out (QUERY_TIMEOUT_MS, src/graphql/deadline.ts) */
  deadline: number
}

declare module 'mercurius' {
  interface MercuriusContext extends Context {}
}
