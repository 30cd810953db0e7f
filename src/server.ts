// The process: configuration, logger, listen, graceful shutdown. The Fastify server options and
// the app plugin (src/app.ts) come together in buildApp (src/server-options.ts), as in the tests.
import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { loadConfigOrExit } from './config.js'
import { loggerOptions } from './logger.js'
import { buildApp } from './server-options.js'

const config = loadConfigOrExit()

const logger = pino(loggerOptions(config, config.NODE_ENV === 'development' && process.stdout.isTTY))
const started = performance.now()
const app = await buildApp(config, { logger })

// close-with-grace hands over only the error: remember where it came from, for the log line.
// (Registered first, so it runs before close-with-grace's own listener.)
let origin: 'uncaughtException' | 'unhandledRejection' = 'uncaughtException'
process.on('unhandledRejection', () => { origin = 'unhandledRejection' })

// On SIGTERM: /ready turns 503 at once, keep serving for SHUTDOWN_DELAY_MS so the load balancer
// deregisters us, then stop accepting, finish in-flight requests, close pool and Redis, exit 0.
// An uncaught error takes the same path (and exits 1), so the orchestrator restarts us cleanly.
closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS, logger }, async ({ signal, err }) => {
  if (err) {
    // a defect: logged with its stack and the process's state, reported to error tracking (sent
    // when the app closes), then the same graceful stop as SIGTERM, minus the delay, and exit 1
    const { rss, heapUsed } = process.memoryUsage()
    logger.fatal({ err, origin, uptimeS: Math.round(process.uptime()), rssBytes: rss, heapUsedBytes: heapUsed }, 'fatal error, shutting down')
    app.reportError(err, {})
  } else logger.info({ signal, delayMs: config.SHUTDOWN_DELAY_MS }, 'shutting down')
  app.lifecycle.draining = true
  if (config.SHUTDOWN_DELAY_MS > 0 && !err) await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DELAY_MS))
  await app.close()
  logger.info('stopped')
})

await app.listen({ host: config.HOST, port: config.PORT })
app.server.headersTimeout = Math.min(10_000, config.QUERY_TIMEOUT_MS + 5000)
logger.info({ ms: Math.round(performance.now() - started), embedded: config.embeddedDatabase }, 'ready to serve')
