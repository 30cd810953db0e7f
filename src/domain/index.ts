// The registry: every domain of the service, one line each (the order does not matter). A domain
// is a folder (src/domain/<name>/) whose index exports one object (Domain, src/graphql/domain.ts):
// its schema, resolvers, loaders, repositories, counters. The GraphQL plugin, the context type,
// Idempotency-Key, the business metrics and codegen read this list (`domains` there); none of them
// names a domain (test/starter/domain-boundary.test.ts).
export { users } from './users/index.js'
export { posts } from './posts/index.js'
