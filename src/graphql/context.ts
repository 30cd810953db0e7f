// What every resolver receives. Mercurius merges this into its own context (app, reply, ...).
import type { PostRow } from '../db/repositories/posts.js'
import type { UserRow } from '../db/repositories/users.js'
import type { PostsRepository } from '../db/repositories/posts.js'
import type { UsersRepository } from '../db/repositories/users.js'

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
}

declare module 'mercurius' {
  interface MercuriusContext extends Context {}
}
