// The repositories' reads, cached (src/cache/two-level.ts), and the tags that writes invalidate.
// Rows are cached as the database returns them, before any field is resolved: what depends on
// the caller (User.email) is decided by @auth on every request, so no entry can leak it.
import type { PostRow, PostsRepository } from '../db/repositories/posts.js'
import type { UserRow, UsersRepository } from '../db/repositories/users.js'
import type { Cache } from './two-level.js'

/** What each write makes stale. Resolvers call ctx.invalidate(tags) once their write has committed. */
export const staleAfter = {
  userCreated: (id: string) => ['users', `user:${id}`],
  userUpdated: (id: string) => ['users', `user:${id}`],
  // the user's posts go with them (ON DELETE CASCADE)
  userDeleted: (id: string) => ['users', `user:${id}`, `author:${id}`, 'posts'],
  postCreated: (post: { id: string, authorId: string }) => ['posts', `post:${post.id}`, `author:${post.authorId}`]
}

/** A memory hit is answered without a promise, so reads may return the value itself. */
type MaybePromise<T> = T | Promise<T>
export type CachedUsersRepository = Omit<UsersRepository, 'findById' | 'list'> & {
  findById (id: string): MaybePromise<UserRow | null>
  list (limit: number, offset: number): MaybePromise<UserRow[]>
}
export type CachedPostsRepository = Omit<PostsRepository, 'findById' | 'list'> & {
  findById (id: string): MaybePromise<PostRow | null>
  list (limit: number, offset: number): MaybePromise<PostRow[]>
}

function byIdsInOrder (ids: string[], rows: UserRow[]): Array<UserRow | null> {
  const byId = new Map(rows.map((r) => [r.id, r]))
  return ids.map((id) => byId.get(id) ?? null)
}

export function cachedUsers (cache: Cache, users: UsersRepository): CachedUsersRepository {
  return {
    ...users,
    findById: (id) => cache.get('user', id, () => users.findById(id), () => [`user:${id}`]),
    findByIds: async (ids) => (await cache.many('user', [...ids], async (missing) => byIdsInOrder(missing, await users.findByIds(missing)),
      (_row, id) => [`user:${id}`])).filter((row): row is UserRow => row !== null),
    list: (limit, offset) => cache.get('users', `${limit}:${offset}`, () => users.list(limit, offset), () => ['users'])
  }
}

export function cachedPosts (cache: Cache, posts: PostsRepository): CachedPostsRepository {
  return {
    ...posts,
    findById: (id) => cache.get('post', id, () => posts.findById(id),
      (row) => row ? [`post:${id}`, `author:${row.authorId}`] : [`post:${id}`]),
    list: (limit, offset) => cache.get('posts', `${limit}:${offset}`, () => posts.list(limit, offset), () => ['posts']),
    listByAuthors: (ids, limit, offset) => cache.many('author_posts', ids.map((id) => `${id}:${limit}:${offset}`),
      (missing) => posts.listByAuthors(missing.map((key) => key.slice(0, key.indexOf(':'))), limit, offset),
      (_rows, key) => [`author:${key.slice(0, key.indexOf(':'))}`])
  }
}
