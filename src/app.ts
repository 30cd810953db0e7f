// The app as one Fastify plugin: every plugin, in the order a request meets it. src/server.ts (the
// process) and src/server-options.ts (the Fastify server options, buildApp) register it.
// Each step names the hooks it adds; the complete list for a GraphQL request, in the order they
// run, with what each may refuse, is the hook map in docs/architecture.md (checked by
// test/starter/hook-map.test.ts). Two things run later than their place here suggests, as stated
// at steps 8 and 10: auth's refusal, and the rate limit (a route hook, after every app hook).
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { Config } from './config.js'
import auth from './plugins/authentication.js'
import businessMetrics from './plugins/business-metrics.js'
import cache from './plugins/cache.js'
import db from './plugins/db.js'
import errorTracking from './plugins/error-tracking.js'
import errors from './plugins/errors.js'
import graphiql from './plugins/graphiql.js'
import graphql from './plugins/graphql.js'
import health from './plugins/health.js'
import idempotency from './plugins/idempotency.js'
import metrics from './plugins/metrics.js'
import pressure from './plugins/pressure.js'
import rateLimit from './plugins/rate-limit.js'
import redis from './plugins/redis.js'
import security from './plugins/security.js'

const GRAPHQL_PATH = '/graphql'

/** the server the app plugin was registered on, with every decorator of its plugins */
export type App = FastifyInstance

export interface AppOptions { config: Config }

// a callback hook: an async one costs a promise on every request
function requestIdHeader (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
  reply.header('x-request-id', request.id)
  done()
}

export default async function app (fastify: FastifyInstance, { config }: AppOptions) {
  // 1. the request id on every response (onRequest); the id itself comes from genReqId (src/server-options.ts)
  fastify.addHook('onRequest', requestIdHeader)
  // 2. observability: every response is counted (onResponse) and every defect reported, whichever plugin answers
  await fastify.register(metrics, { config, graphqlPath: GRAPHQL_PATH })
  await fastify.register(errorTracking, { config })
  // 3. the edge: JSON depth (body parser) and name bounds (preValidation), one error shape outside GraphQL, client aborts
  await fastify.register(errors, { graphqlPath: GRAPHQL_PATH })
  // 4. security headers on every response (a shed request's 503 too), HTTPS redirect, CORS (onRequest)
  await fastify.register(security, { config })
  // 5. load shedding (onRequest): an overloaded process spends nothing on a request it refuses
  await fastify.register(pressure, { config })
  // 6. shared services; with read replicas the database adds its read routing (preHandler, onSend)
  await fastify.register(db, { config, graphqlPath: GRAPHQL_PATH })
  await fastify.register(redis, { config })
  await fastify.register(cache, { config })
  await fastify.register(idempotency, { config })
  // 7. routes outside GraphQL (/health, /ready, /metrics is step 2's) and connection: close while draining (onSend)
  await fastify.register(health, { config })
  // 8. who is calling (onRequest sets request.caller). A bad token is refused (401) only in
  //    preParsing, after step 10 has counted the request, so bad tokens cannot be tried without limit.
  await fastify.register(auth, { config, path: GRAPHQL_PATH })
  // 9. business metrics: active callers (onRequest, known now), counters the creating resolvers increment
  await fastify.register(businessMetrics, { config })
  // 10. rate limit per client (the subject, known now, else the IP) and the cost budget. Its
  //     onRequest hook is a route hook (@fastify/rate-limit adds it to each route), so it runs after
  //     every app onRequest hook, whatever its place here, and after Mercurius's CSRF check (a hook
  //     the route itself declares); the cost budget is charged at step 11 (preExecution).
  await fastify.register(rateLimit, { config })
  // 11. GraphQL: route hooks (preValidation, preHandler, onSend) and Mercurius's hooks (preParsing,
  //     preValidation, preExecution, onResolution), added in src/plugins/graphql.ts in their order
  await fastify.register(graphql, { config, path: GRAPHQL_PATH })
  // 12. GraphiQL (GRAPHIQL=true): its own routes, its own content security policy
  await fastify.register(graphiql, { config, graphqlPath: GRAPHQL_PATH })
}
