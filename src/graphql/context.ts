// What every resolver receives. Mercurius merges this into its own context (app, reply, ...).
import type { PostRow } from '../db/repositories/posts.js'
import type { UserRow } from '../db/repositories/users.js'
import type { CachedPostsRepository, CachedUsersRepository } from '../cache/repositories.js'
import type { IdempotencyRepository } from '../db/repositories/idempotency.js'

export interface Caller {
  sub: string
  roles: readonly string[]
}

export type UserModel = UserRow
export type PostModel = PostRow

export interface Context {
  caller: Caller | null
  requestId: string
  /** reads are cached (src/cache/repositories.ts) */
  users: CachedUsersRepository
  posts: CachedPostsRepository
  /** after a committed write: drop what it made stale, here and on every instance (staleAfter) */
  invalidate (tags: string[]): Promise<void>
  idempotency: IdempotencyRepository
  /** performance.now() after which the request has timed out (QUERY_TIMEOUT_MS, src/graphql/deadline.ts) */
  deadline: number
}

declare module 'mercurius' {
  interface MercuriusContext extends Context {}
}
