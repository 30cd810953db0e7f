// The users domain: everything the infrastructure needs of it, in one object (src/graphql/domain.ts).
import { join } from 'node:path'
import type { Cache } from '../../cache/two-level.js'
import type { Queryable } from '../../db/database.js'
import type { Domain } from '../../graphql/domain.js'
import { DOMAIN_DIR } from '../../paths.js'
import { cachedUsers, type CachedUsersRepository } from './cache.js'
import { usersRepository, type UsersRepository } from './repository.js'
import { Mutation, Query } from './resolvers.js'

// annotated, not inferred: the context type is assembled from this object's type (src/graphql/context.ts)
export const users: Domain<{ users: CachedUsersRepository }, { users: Pick<UsersRepository, 'create'> }> = {
  name: 'users',
  typeDefs: join(DOMAIN_DIR, 'users', 'schema.graphql'),
  resolvers: { Query, Mutation },
  /** ctx.users: reads cached */
  repositories: (db: Queryable, cache: Cache) => ({ users: cachedUsers(cache, usersRepository(db)) }),
  transactional: (tx: Queryable) => ({ users: usersRepository(tx) }),
  counters: { usersCreated: { name: 'users_created_total', help: 'Users created (a replayed Idempotency-Key counts nothing)' } },
  mappers: { User: './users/repository.js#UserRow' },
  exampleQuery: '{\n  users(limit: 3) {\n    id\n    name\n  }\n}\n'
}
