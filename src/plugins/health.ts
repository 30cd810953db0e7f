// Liveness (/health) checks nothing but the process; readiness (/ready) checks the database (the
// primary), reports Redis, the JWKS and read replicas (an outage degrades, it does not fail
// readiness) and turns 503 as soon as the server starts draining.
// The database check is one background probe (SELECT 1 on the primary's pool every
// READY_PROBE_EVERY_MS, with READY_CHECK_TIMEOUT_MS): /ready and the bastion_ready metric both read
// its last result (app.readiness()), so neither a /ready request nor a scrape costs a statement.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { withTimeout } from '../timeout.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Set on SIGTERM: /ready answers 503 so the load balancer stops sending traffic. */
    lifecycle: { draining: boolean }
    /** the /ready verdict and its checks, from the last database probe and in-process state */
    readiness: () => Readiness
  }
}

export interface Readiness { ready: boolean, checks: Record<string, string> }

/** how often the database is probed: a failure shows on /ready within this plus READY_CHECK_TIMEOUT_MS */
export const READY_PROBE_EVERY_MS = 1000

export interface HealthOptions { config: Config }

export default fp<HealthOptions>(async function healthPlugin (app, { config }) {
  app.decorate('lifecycle', { draining: false })
  // While draining, ask clients to close keep-alive connections after each response, so that
  // server.close() is not left waiting for sockets that in-flight requests kept busy.
  app.addHook('onSend', function connectionCloseWhileDraining (request, reply, payload, done) {
    if (app.lifecycle.draining) reply.header('connection', 'close')
    done(null, payload)
  })
  // probes log only warnings, and nothing at all when the server is quieter than that
  const quiet = ['silent', 'fatal', 'error'].includes(config.LOG_LEVEL)
  const noLog = { logLevel: quiet ? config.LOG_LEVEL : 'warn' as const, config: { rateLimit: false } }

  app.get('/health', noLog, async () => ({ status: 'ok' }))

  // the last probe's verdict; the database plugin has just answered its boot ping
  let database: 'ok' | 'failing' = 'ok'
  let timer: NodeJS.Timeout | undefined
  async function probeDatabase () {
    try {
      await withTimeout(app.db.pool.query('SELECT 1'), config.READY_CHECK_TIMEOUT_MS)
      if (database === 'failing') app.log.info('readiness: database check passes again')
      database = 'ok'
    } catch (err) {
      // logged on the change only, never once a second (and not for the pool closing at shutdown)
      if (database === 'ok' && timer !== undefined) app.log.warn({ err }, 'readiness: database check failed')
      database = 'failing'
    }
    if (timer !== undefined) timer.refresh()
  }
  app.addHook('onReady', function startReadinessProbe (done) {
    timer = setTimeout(() => { void probeDatabase() }, READY_PROBE_EVERY_MS).unref()
    done()
  })
  app.addHook('onClose', function stopReadinessProbe (_app, done) {
    clearTimeout(timer)
    timer = undefined
    done()
  })

  app.decorate('readiness', function readiness (): Readiness {
    const checks: Record<string, string> = { database }
    let ready = database === 'ok'
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
    return { ready, checks }
  })

  app.metrics.watchReadiness(() => app.readiness().ready)

  app.get('/ready', noLog, async (_request, reply) => {
    const { ready, checks } = app.readiness()
    reply.code(ready ? 200 : 503)
    return { status: ready ? 'ready' : 'unavailable', checks }
  })
}, { name: 'health', dependencies: ['metrics', 'db', 'redis', 'pressure'], decorators: { fastify: ['metrics', 'db', 'readReplicas', 'redis', 'redisBreaker', 'pressure'] } })
