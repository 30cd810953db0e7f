// Error tracking (Sentry, initialised by src/instrument.ts when SENTRY_DSN is set): the error
// formatter reports unexpected errors through app.reportError; on close, what is still queued is
// sent (bounded) so the error that preceded a shutdown is not lost.
import fp from 'fastify-plugin'
import { flushErrors, reportUnexpected } from '../observability/sentry.js'

declare module 'fastify' {
  interface FastifyInstance { reportError: typeof reportUnexpected }
}

export default fp(async function errorTrackingPlugin (app) {
  app.decorate('reportError', reportUnexpected)
  app.addHook('onClose', async () => { await flushErrors() })
}, { name: 'error-tracking' })
