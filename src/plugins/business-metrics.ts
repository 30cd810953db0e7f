// Business metrics (src/observability/business.ts) on the app's registry: app.business for the
// resolvers that create, and one sync onRequest hook that notes each authenticated caller.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { domains } from '../graphql/domain.js'
import { createBusinessMetrics, type BusinessMetrics } from '../observability/business.js'

declare module 'fastify' {
  interface FastifyInstance { business: BusinessMetrics }
}

export interface BusinessMetricsOptions { config: Config }

export default fp<BusinessMetricsOptions>(async function businessMetricsPlugin (app, { config }) {
  const business = createBusinessMetrics(app.metrics.registry, config.ACTIVE_CALLERS_WINDOW_SECONDS,
    Object.assign({}, ...domains.map((domain) => domain.counters)))
  app.decorate('business', business)
  // after auth's onRequest hook, which sets request.caller for a valid token
  app.addHook('onRequest', function noteActiveCaller (request, _reply, done) {
    if (request.caller !== null) business.seen(request.caller.sub)
    done()
  })
}, { name: 'business-metrics', dependencies: ['metrics', 'auth'], decorators: { fastify: ['metrics'], request: ['caller'] } })
