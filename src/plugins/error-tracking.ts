// Error tracking (Sentry): the error formatter reports unexpected errors through app.reportError.
// Without SENTRY_DSN it does nothing, and @sentry/node is not even loaded (it costs start-up time
// and memory). With it, src/instrument.ts has initialised Sentry before Fastify was loaded; on
// close, what is still queued is sent (bounded), so the error that preceded a shutdown is not lost.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { sentryReporter, type Reporter } from '../observability/sentry.js'

declare module 'fastify' {
  interface FastifyInstance { reportError: Reporter }
}

export interface ErrorTrackingOptions { config: Config }

const FLUSH_TIMEOUT_MS = 2000

export default fp<ErrorTrackingOptions>(async function errorTrackingPlugin (app, { config }) {
  if (!config.SENTRY_DSN) {
    app.decorate('reportError', () => {})
    return
  }
  const sentry = await import('@sentry/node')
  if (!sentry.isInitialized()) {
    app.log.warn('SENTRY_DSN is set but Sentry is not initialised: start the server with node --import ./dist/src/instrument.js (as npm start does)')
  }
  app.decorate('reportError', sentryReporter(sentry))
  app.addHook('onClose', async () => { await sentry.flush(FLUSH_TIMEOUT_MS) })
}, { name: 'error-tracking' })
