// The posts domain: everything the infrastructure needs of it, in one object (src/graphql/domain.ts).
import { join } from 'node:path'
import type { Cache } from '../../cache/two-level.js'
import type { Queryable } from '../../db/database.js'
import type { Domain } from '../../graphql/domain.js'
import { DOMAIN_DIR } from '../../paths.js'
import { cachedPosts, type CachedPostsRepository } from './cache.js'
import { loaders } from './loaders.js'
import { postsRepository, type PostsRepository } from './repository.js'
import { Mutation, Query } from './resolvers.js'

// annotated, not inferred: the context type is assembled from this object's type (src/graphql/context.ts)
export const posts: Domain<{ posts: CachedPostsRepository }, { posts: Pick<PostsRepository, 'create'> }> = {
  name: 'posts',
  typeDefs: join(DOMAIN_DIR, 'posts', 'schema.graphql'),
  resolvers: { Query, Mutation },
  loaders,
  /** ctx.posts: reads cached */
  repositories: (db: Queryable, cache: Cache) => ({ posts: cachedPosts(cache, postsRepository(db)) }),
  transactional: (tx: Queryable) => ({ posts: postsRepository(tx) }),
  counters: { postsCreated: { name: 'posts_created_total', help: 'Posts created (a replayed Idempotency-Key counts nothing)' } },
  mappers: { Post: './posts/repository.js#PostRow' }
}
