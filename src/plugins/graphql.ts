// GraphQL over Mercurius: every domain's schema, resolvers and batched loaders (src/domain/index.ts), the
// authorization policy (@auth) and the one error formatter.
// The hooks of the GraphQL routes are added here, in the order they run (docs/architecture.md, Hook
// map): route hooks through onRoute (they run after every app hook of their phase), then
// Mercurius's, which run inside the route handler: preValidation once per distinct document, then
// preExecution per operation and onResolution.
import fp from 'fastify-plugin'
import mercurius from 'mercurius'
import type { Config } from '../config.js'
import { domains } from '../graphql/domain.js'
import { applyPolicy } from '../graphql/authorization.js'
import { deadlineLoaders, deadlineResolvers } from '../graphql/deadline.js'
import { mergeByType } from '../graphql/domain.js'
import { createErrorFormatter } from '../graphql/error-formatter.js'
import { batchHook, costHook, parseOptions, validationRules } from '../graphql/limits/index.js'
import { getOperationCheck } from '../graphql/get-operation.js'
import { integerErrorPaths, persistedQueryProvider as mercuriusProvider, pinOperation } from '../graphql/compat/mercurius.js'
import { registerDirectiveAuth } from '../graphql/compat/mercurius-auth.js'
import { graphqlOverHttp } from '../graphql/http-request.js'
import { parsedDocumentsOnly } from '../graphql/parsed-only.js'
import { repeatedFieldsLimit } from '../graphql/limits/selections.js'
import { automaticPersistedQueries, loadTrustedDocuments, trustedDocumentsOnly } from '../graphql/persisted-queries.js'
import { loadTypeDefs } from '../graphql/schema.js'
import { observeGraphql } from '../observability/graphql.js'
import { child } from '../observability/metrics.js'
import { recordErrors, traceGraphql } from '../observability/tracing.js'
import switches from './switches.js'

// a document compiles on its 11th request (Mercurius counts the ones before it: JIT_AFTER): one-off
// documents never pay for compiling (a few ms)
const JIT_AFTER = 10

export interface GraphqlOptions { config: Config, path: string }

export default fp<GraphqlOptions>(async function graphqlPlugin (app, { config, path }) {
  const repos = {
    ...Object.assign({}, ...domains.map((domain) => domain.repositories(app.db, app.cache))),
    idempotency: app.idempotency,
    invalidate: (tags: string[]) => app.cache.invalidate(tags)
  }
  // Mercurius's response schema serializes error paths as strings; GraphQL wants list indices as integers.
  app.addHook('onRoute', integerErrorPaths(path))
  // batch size (QUERY_TOO_LARGE over MAX_BATCH) before the body is validated or run
  app.addHook('onRoute', function graphqlRouteChecks (route) {
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
      maxPerDay: config.PERSISTED_QUERIES_MAX_PER_DAY,
      lookup: (hit) => child(app.metrics.cacheRequests, 'persisted_queries', hit ? 'hit' : 'miss').inc()
    })
    : config.PERSISTED_QUERIES === 'only' ? trustedDocumentsOnly(loadTrustedDocuments(config.PERSISTED_QUERIES_FILE)) : undefined
  await app.register(mercurius, {
    ...(persistedQueryProvider && { persistedQueryProvider: mercuriusProvider(persistedQueryProvider) }),
    schema: loadTypeDefs(),
    // every resolver and loader ends with TIMEOUT once the request's deadline has passed
    resolvers: deadlineResolvers(mergeByType(domains.map((domain) => domain.resolvers))) as mercurius.IResolvers,
    loaders: deadlineLoaders(mergeByType(domains.map((domain) => domain.loaders))) as mercurius.MercuriusLoaders,
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
    })
  })
  // only documents graphql parsed from the query text (never a JSON-encoded AST)
  app.graphql.addHook('preValidation', parsedDocumentsOnly)
  // a response name repeated past a few times, before graphql's quadratic overlap check (QUERY_TOO_LARGE)
  app.graphql.addHook('preValidation', repeatedFieldsLimit)
  // first of the preExecution hooks: the one operation that executes, which every later hook, the log and the metrics read
  app.graphql.addHook('preExecution', pinOperation)
  // operation metrics and the slow-operation log; next, so a later hook that rejects still knows the operation
  observeGraphql(app, { operationNamesMax: config.METRICS_OPERATION_NAMES_MAX, slowOperationMs: config.SLOW_OPERATION_MS })
  // tracing on: one span per operation (src/observability/tracing.ts); before any hook that may refuse
  if (config.otlpTracesUrl) traceGraphql(app, { parentBased: config.OTEL_TRACES_SAMPLER.startsWith('parentbased_') })
  // runtime switches (and READ_ONLY): refused operations fail fast, before authorization and cost
  await app.register(switches, { config })
  // mercurius-auth, with a synchronous guard on protected fields that have no resolver
  await registerDirectiveAuth(app, 'auth', applyPolicy)
  // cost with the request's variables (QUERY_TOO_COMPLEX), context.cost, the cost budget
  app.graphql.addHook('preExecution', costHook(config, app.chargeCost))
}, {
  name: 'graphql',
  // the resolvers read app.business (src/observability/business.ts) through the context
  dependencies: ['metrics', 'error-tracking', 'db', 'redis', 'cache', 'idempotency', 'auth', 'business-metrics', 'rate-limit'],
  decorators: {
    fastify: ['metrics', 'reportError', 'db', 'redis', 'redisBreaker', 'cache', 'idempotency', 'business', 'chargeCost'],
    request: ['caller', 'graphqlOperation', 'graphqlExecuted']
  }
})
