// Liveness (/health) checks nothing but the process; readiness (/ready) checks the database with
// its own short timeout (the primary), reports Redis, the JWKS and read replicas (an outage degrades,
// it does not fail readiness) and turns 503 as soon as the server starts draining.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { withTimeout } from '../timeout.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Set on SIGTERM: /ready answers 503 so the load balancer stops sending traffic. */
    lifecycle: { draining: boolean }
  }
}

export interface HealthOptions { config: Config }

export default fp<HealthOptions>(async function healthPlugin (app, { config }) {
  app.decorate('lifecycle', { draining: false })
  // While draining, ask clients to close keep-alive connections after each response, so that
  // server.close() is not left waiting for sockets that in-flight requests kept busy.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (app.lifecycle.draining) reply.header('connection', 'close')
    done(null, payload)
  })
  // probes log only warnings, and nothing at all when the server is quieter than that
  const quiet = ['silent', 'fatal', 'error'].includes(config.LOG_LEVEL)
  const noLog = { logLevel: quiet ? config.LOG_LEVEL : 'warn' as const, config: { rateLimit: false } }

  app.get('/health', noLog, async () => ({ status: 'ok' }))

  app.get('/ready', noLog, async (request, reply) => {
    const checks: Record<string, string> = {}
    let ready = true
    try {
      await withTimeout(app.db.query('ready', 'SELECT 1'), config.READY_CHECK_TIMEOUT_MS)
      checks.database = 'ok'
    } catch (err) {
      checks.database = 'failing'
      ready = false
      request.log.warn({ err: { message: (err as Error).message } }, 'readiness: database check failed')
    }
    // degraded (not failing): cache bypassed, rate limits per instance; the breaker knows a hung Redis too
    checks.redis = app.redis === null ? 'disabled' : app.redisBreaker.isOpen() ? 'degraded' : 'ok'
    // degraded (not failing): the identity provider's JWKS endpoint fails, the cached keys still verify
    // (only with a JWKS configured)
    if (app.hasDecorator('identityKeys')) checks.jwks = app.identityKeys.status()
    // replicas lagging or unreachable degrade (the primary serves their reads), never fail readiness
    if (app.readReplicas) checks.replicas = app.readReplicas.replicas.status()
    // over a load-shedding threshold (src/plugins/pressure.ts): say which, so traffic moves elsewhere
    const pressure = app.pressure()
    if (pressure) {
      checks.pressure = pressure
      ready = false
    }
    if (app.lifecycle.draining) {
      checks.server = 'draining'
      ready = false
    }
    reply.code(ready ? 200 : 503)
    return { status: ready ? 'ready' : 'unavailable', checks }
  })
}, { name: 'health', dependencies: ['db', 'redis', 'pressure'] })
