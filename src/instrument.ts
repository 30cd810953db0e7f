// Loaded with `node --import` before anything else, so Sentry can instrument the modules it wraps.
// Does nothing (and loads nothing) unless SENTRY_DSN is set. Only errors are sent
// (src/observability/sentry.ts reports the unexpected ones): tracesSampleRate is left unset, which keeps Sentry's performance
// instrumentation of http, pg, graphql... off the request path entirely.
import './compile-cache.js'
import { loadConfig } from './config.js'

let dsn: string | undefined
let environment = 'development'
try {
  const config = loadConfig()
  dsn = config.SENTRY_DSN
  environment = config.NODE_ENV
} catch {
  // an invalid configuration is reported by the server itself
}
if (dsn) {
  // loaded only with a DSN: @sentry/node costs about a second of CPU at every start
  const Sentry = await import('@sentry/node')
  Sentry.init({
    dsn,
    environment,
    sendDefaultPii: false,
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
