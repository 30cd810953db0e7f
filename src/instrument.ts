// Loaded with `node --import` before anything else, so Sentry and OpenTelemetry can instrument the
// modules they wrap. Each does nothing unless configured (SENTRY_DSN; an OTLP endpoint).
// Sentry sends errors only (src/observability/sentry.ts reports the unexpected ones):
// tracesSampleRate is left unset, which keeps Sentry's performance instrumentation of http, pg,
// graphql... off the request path. With tracing on, OpenTelemetry is ours
// (src/observability/tracing-setup.ts): Sentry is told to skip its own set-up
// (https://docs.sentry.io/platforms/javascript/guides/node/opentelemetry/custom-setup/) and its
// events carry the trace id (src/observability/sentry.ts).
import './compile-cache.js'
import { loadConfig, type Config } from './config.js'

let config: Config | undefined
try {
  config = loadConfig()
} catch {
  // an invalid configuration is reported by the server itself
}
const tracing = Boolean(config?.otlpTracesUrl)
if (config?.SENTRY_DSN) {
  // loaded only with a DSN: @sentry/node costs about a second of CPU at every start
  const Sentry = await import('@sentry/node')
  Sentry.init({
    dsn: config.SENTRY_DSN,
    environment: config.NODE_ENV,
    sendDefaultPii: false,
    ...(tracing && { skipOpenTelemetrySetup: true }),
    // errors only: no module is patched for spans, so no ESM loader thread (a V8 heap of its own,
    // about 17 MB resident at rest)
    registerEsmLoaderHooks: false,
    // credentials and GraphQL variables never leave the process: the request id tag finds the rest in the logs
    beforeSend (event) {
      if (event.request) {
        delete event.request.data
        delete event.request.cookies
        delete event.request.query_string
        if (event.request.headers) {
          for (const name of Object.keys(event.request.headers)) {
            if (/^(authorization|cookie|x-api-key)$/i.test(name)) delete event.request.headers[name]
          }
        }
      }
      return event
    }
  })
}
if (config && tracing) {
  const { startTracing } = await import('./observability/tracing-setup.js')
  await startTracing(config)
}
