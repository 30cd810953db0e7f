// The registry: every domain of the service, one line each. A domain is a folder (src/domain/<name>/)
// whose index exports one object (src/graphql/domain.ts): its schema, resolvers, loaders,
// repositories, counters. The GraphQL plugin, the context type, Idempotency-Key, the business
// metrics and codegen read this list; none of them names a domain (test/starter/domain-boundary.test.ts).
import { posts } from './posts/index.js'
import { users } from './users/index.js'

export const domains = [
  users,
  posts
] as const
