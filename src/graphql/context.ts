// What every resolver receives. Mercurius merges this into its own context (app, reply, ...).
import type { PostRow } from '../db/repositories/posts.js'
import type { UserRow } from '../db/repositories/users.js'
import type { PostsRepository } from '../db/repositories/posts.js'
import type { UsersRepository } from '../db/repositories/users.js'
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
  users: UsersRepository
  posts: PostsRepository
  idempotency: IdempotencyRepository
  /** performance.now() after which the request has timed out (QUERY_TIMEOUT_MS, src/graphql/deadline.ts) */
  deadline: number
}

declare module 'mercurius' {
  interface MercuriusContext extends Context {}
}
