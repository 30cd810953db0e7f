// Loaded with `node --import` before anything else, so Sentry can instrument the modules it wraps.
// Does nothing unless SENTRY_DSN is set.
import * as Sentry from '@sentry/node'
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
  Sentry.init({ dsn, environment, tracesSampleRate: 0, sendDefaultPii: false })
}
