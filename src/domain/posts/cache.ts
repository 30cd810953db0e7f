// The posts' reads, cached (src/cache/two-level.ts), and the tags their writes make stale.
import { orderedList, type Cache } from '../../cache/two-level.js'
import type { MaybePromise } from '../../graphql/domain.js'
import type { PostRow, PostsRepository } from './repository.js'

/** What each write makes stale. Resolvers call ctx.invalidate(tags) once their write has committed. */
export const staleAfter = {
  // the list is read in id order (orderedList): a create drops only its end
  postCreated: (post: { id: string, authorId: string }) => [...orderedList.inserted('posts', post.id), `post:${post.id}`, `author:${post.authorId}`]
}

export type CachedPostsRepository = Omit<PostsRepository, 'findById' | 'list'> & {
  findById (id: string): MaybePromise<PostRow | null>
  list (limit: number, offset: number): MaybePromise<PostRow[]>
}

export function cachedPosts (cache: Cache, posts: PostsRepository): CachedPostsRepository {
  return {
    ...posts,
    findById: (id) => cache.get('post', id, () => posts.findById(id),
      (row) => row ? [`post:${id}`, `author:${row.authorId}`] : [`post:${id}`]),
    list: (limit, offset) => cache.get('posts', `${limit}:${offset}`, () => posts.list(limit, offset),
      (rows) => orderedList.pageTags('posts', rows.map((r) => r.id), limit, (id) => `post:${id}`)),
    listByAuthors: (ids, limit, offset) => cache.many('author_posts', ids.map((id) => `${id}:${limit}:${offset}`),
      (missing) => posts.listByAuthors(missing.map((key) => key.slice(0, key.indexOf(':'))), limit, offset),
      (_rows, key) => [`author:${key.slice(0, key.indexOf(':'))}`])
  }
}
