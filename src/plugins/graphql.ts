// GraphQL over Mercurius: schema from src/graphql/schema/, resolvers, batched loaders, the
// authorization policy (@auth) and the one error formatter.
import fp from 'fastify-plugin'
import mercurius from 'mercurius'
import type { FastifyPluginAsync } from 'fastify'
import mercuriusAuthModule, { type MercuriusAuthOptions } from 'mercurius-auth'
import type { Config } from '../config.js'
import { cachedPosts, cachedUsers } from '../cache/repositories.js'
import { postsRepository } from '../db/repositories/posts.js'
import { usersRepository } from '../db/repositories/users.js'
import { authOptions } from '../graphql/auth.js'
import { deadlineLoaders, deadlineResolvers } from '../graphql/deadline.js'
import { createErrorFormatter } from '../graphql/errors.js'
import { batchHook, costHook, parseOptions, validationRules } from '../graphql/limits/index.js'
import { loaders } from '../graphql/loaders.js'
import { getOperationCheck } from '../graphql/get-operation.js'
import { pinOperation } from '../graphql/compat/mercurius.js'
import { graphqlOverHttp } from '../graphql/http-request.js'
import { parsedDocumentsOnly } from '../graphql/parsed-only.js'
import { repeatedFieldsLimit } from '../graphql/limits/selections.js'
import { automaticPersistedQueries, loadTrustedDocuments, trustedDocumentsOnly } from '../graphql/persisted-queries.js'
import * as posts from '../graphql/resolvers/posts.js'
import * as users from '../graphql/resolvers/users.js'
import { loadTypeDefs } from '../graphql/schema.js'
import { observeGraphql } from '../observability/graphql.js'
import { child } from '../observability/metrics.js'
import { recordErrors, traceGraphql } from '../observability/tracing.js'
import switches from './switches.js'

// mercurius-auth is CommonJS (module.exports = plugin) while its types declare a default export.
const mercuriusAuth = mercuriusAuthModule as unknown as FastifyPluginAsync<MercuriusAuthOptions>

// a document compiles on its 10th request: one-off documents never pay for compiling (a few ms)
const JIT_AFTER = 10

export interface GraphqlOptions { config: Config, path: string }

export default fp<GraphqlOptions>(async function graphqlPlugin (app, { config, path }) {
  const repos = {
    users: cachedUsers(app.cache, usersRepository(app.db)),
    posts: cachedPosts(app.cache, postsRepository(app.db)),
    idempotency: app.idempotency,
    invalidate: (tags: string[]) => app.cache.invalidate(tags)
  }
  // Mercurius's response schema serializes error paths as strings; GraphQL wants list indices as integers.
  app.addHook('onRoute', (route) => {
    const errors = (route.schema?.response as { '2xx'?: { properties?: { errors?: { items: { properties: Record<string, unknown> } } } } } | undefined)?.['2xx']?.properties?.errors
    if (route.url !== path || !errors) return
    route.schema = structuredClone(route.schema)
    const items = (route.schema!.response as { '2xx': { properties: { errors: { items: { properties: Record<string, unknown> } } } } })['2xx'].properties.errors.items
    items.properties.path = { type: 'array', items: { type: ['string', 'integer'] } }
  })
  // batch size (QUERY_TOO_LARGE over MAX_BATCH) before the body is validated or run
  app.addHook('onRoute', (route) => {
    if (route.url === path && route.method === 'POST') route.preValidation = [batchHook(config), ...[route.preValidation ?? []].flat()]
    // a GET's operation must exist before Mercurius looks it up (src/graphql/get-operation.ts)
    // (and a HEAD is refused: Mercurius guards GET only); a persisted query's hash is looked up first
    if (route.url === path && (route.method === 'GET' || route.method === 'HEAD')) {
      route.preHandler = [getOperationCheck(parseOptions(config), persistedQueryProvider?.find), ...[route.preHandler ?? []].flat()]
    }
  })
  // GraphQL over HTTP: malformed requests (400), Accept (406), the response's media type and status
  graphqlOverHttp(app, { path, persistedQueries: config.PERSISTED_QUERIES !== 'off', batching: config.MAX_BATCH > 0 })
  // PERSISTED_QUERIES: off, automatic (APQ shared through Redis) or only (trusted documents)
  const persistedQueryProvider = config.PERSISTED_QUERIES === 'automatic'
    ? automaticPersistedQueries({
      redis: app.redis,
      breaker: app.redisBreaker,
      ttlSeconds: config.PERSISTED_QUERIES_TTL_HOURS * 3600,
      lookup: (hit) => child(app.metrics.cacheRequests, 'persisted_queries', hit ? 'hit' : 'miss').inc()
    })
    : config.PERSISTED_QUERIES === 'only' ? trustedDocumentsOnly(loadTrustedDocuments(config.PERSISTED_QUERIES_FILE)) : undefined
  await app.register(mercurius, {
    ...(persistedQueryProvider && { persistedQueryProvider: persistedQueryProvider as unknown as mercurius.PersistedQueryProvider }),
    schema: loadTypeDefs(),
    // every resolver and loader ends with TIMEOUT once the request's deadline has passed
    resolvers: deadlineResolvers({
      Query: { ...users.Query, ...posts.Query },
      Mutation: { ...users.Mutation, ...posts.Mutation }
    }) as mercurius.IResolvers,
    loaders: deadlineLoaders(loaders as Record<string, Record<string, unknown>>) as mercurius.MercuriusLoaders,
    path,
    graphiql: false,
    // graphql-jit, for a document text seen JIT_AFTER times. Mercurius keeps one compiled query
    // per text, for whatever operation the request that compiled it named (docs/security.md):
    // pinOperation below lets it run only for texts holding a single operation, the one pinned
    jit: JIT_AFTER,
    allowBatchedQueries: config.MAX_BATCH > 0,
    // document limits (src/graphql/limits): tokens while parsing, then depth, aliases, directives
    // and introspection as validation rules, run once per distinct document
    graphql: { parseOptions: parseOptions(config) },
    validationRules: validationRules(config),
    // a GET (or a simple POST a browser could send cross-site) must carry a preflight-forcing header:
    // the one the GraphQL-over-HTTP specification suggests, or one of Mercurius's
    csrfPrevention: { requiredHeaders: ['graphql-require-preflight', 'mercurius-require-preflight', 'x-mercurius-operation-name'] },
    context: (request) => ({ caller: request.caller, requestId: request.id, ...repos, deadline: performance.now() + config.QUERY_TIMEOUT_MS }),
    errorFormatter: createErrorFormatter({
      mask: config.isProduction,
      hideSuggestions: config.isProduction,
      report: app.reportError,
      count: (code) => app.metrics.graphqlErrors.inc({ code }),
      ...(config.otlpTracesUrl && { record: recordErrors })
    }) as never
  })
  // first: the one operation that executes, which every later hook, the log and the metrics read
  app.graphql.addHook('preExecution', pinOperation)
  // operation metrics and the slow-operation log; next, so a later hook that rejects still knows the operation
  observeGraphql(app, { operationNamesMax: config.METRICS_OPERATION_NAMES_MAX, slowOperationMs: config.SLOW_OPERATION_MS })
  // tracing on: one span per operation (src/observability/tracing.ts); before any hook that may refuse
  if (config.otlpTracesUrl) traceGraphql(app)
  // runtime switches (and READ_ONLY): refused operations fail fast, before authorization and cost
  await app.register(switches, { config })
  await app.register(mercuriusAuth, authOptions)
  // only documents graphql parsed from the query text (never a JSON-encoded AST)
  app.graphql.addHook('preValidation', parsedDocumentsOnly)
  // a response name repeated past a few times, before graphql's quadratic overlap check (QUERY_TOO_LARGE)
  app.graphql.addHook('preValidation', repeatedFieldsLimit)
  // cost with the request's variables (QUERY_TOO_COMPLEX), context.cost, the cost budget
  app.graphql.addHook('preExecution', costHook(config, app.chargeCost))
}, { name: 'graphql', dependencies: ['db', 'cache', 'auth', 'idempotency', 'rate-limit', 'metrics', 'error-tracking'] })
