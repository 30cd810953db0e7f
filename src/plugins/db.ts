// The database: one pg Pool (src/db/database.ts), on the embedded PostgreSQL when DATABASE_URL is unset.
// With DATABASE_REPLICA_URLS, app.db routes queries to read replicas (src/db/routing.ts).
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { connectionConfig } from '../db/connection.js'
import { createDatabase, type Database, type QueryEvent } from '../db/database.js'
import { startEmbedded } from '../db/embedded.js'
import { migrate } from '../db/migrate.js'
import { withReplicas } from '../db/replica-setup.js'
import type { Router } from '../db/routing.js'
import { appRoleName, excessPrivileges } from '../db/roles.js'
import { seed, seededAny, unseeded } from '../db/seed.js'
import { replicaMetrics } from '../observability/replica-metrics.js'
import { enabled } from '../observability/request-log.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
    /** the same object as db when DATABASE_REPLICA_URLS is set (its replicas, read-your-writes), else null */
    readReplicas: Router | null
  }
}

export interface DbOptions { config: Config, graphqlPath?: string }

export default fp<DbOptions>(async function dbPlugin (app, { config, graphqlPath = '/graphql' }) {
  let connection: ReturnType<typeof connectionConfig> | Awaited<ReturnType<typeof startEmbedded>>['connection'] =
    config.DATABASE_URL ? connectionConfig(config.DATABASE_URL, config.DATABASE_SSL_CA_FILE) : ''
  let embedded: Awaited<ReturnType<typeof startEmbedded>> | undefined
  if (config.embeddedDatabase) {
    const started = Date.now()
    // the pool, plus a few for migrations, scripts and a psql session
    embedded = await startEmbedded({
      dir: config.EMBEDDED_DATABASE_DIR,
      maxConnections: config.DATABASE_POOL_MAX + 10,
      onLog: (line) => app.log.debug({ postgres: line }, 'embedded PostgreSQL')
    })
    connection = embedded.connection
    app.log.warn({ dir: config.EMBEDDED_DATABASE_DIR, port: connection.port, ms: Date.now() - started },
      'using the embedded development PostgreSQL; set DATABASE_URL for your own server')
  }
  const primary = createDatabase({
    connection,
    min: config.DATABASE_POOL_MIN,
    max: config.DATABASE_POOL_MAX,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: config.DATABASE_IDLE_TIMEOUT_MS,
    statementTimeoutMs: config.QUERY_TIMEOUT_MS,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    onIdleError: (err) => app.log.error({ err }, 'idle database connection failed'),
    onReadOnlyRetry: () => {
      app.metrics.dbReadOnlyRetries.inc()
      app.log.warn('the database endpoint led to a read-only server (failover in progress?): retrying on a new connection')
    }
  })
  // the replica metrics need the router's replicas, the router counts each statement's route in them
  const counted: { metrics?: ReturnType<typeof replicaMetrics> } = {}
  const router = config.DATABASE_REPLICA_URLS.length > 0 ? withReplicas(app, config, primary, graphqlPath, (route) => counted.metrics?.routed(route)) : null
  counted.metrics = replicaMetrics(app.metrics.registry, router?.replicas.replicas ?? [], config.REPLICA_MAX_LAG_MS)
  const db = router ?? primary
  app.decorate('db', db)
  app.decorate('readReplicas', router)
  // statement timings and the slow-statement log (the statement's text only: parameter values
  // never reach the log), and the pool that db_pool_connections reads when scraped
  const slowMs = config.SLOW_QUERY_MS
  db.onQuery(function observeQuery (e: QueryEvent) {
    app.metrics.dbDuration.observe(e.durationMs / 1000)
    if (e.durationMs >= slowMs && enabled(app.log, 'warn')) {
      app.log.warn({ statement: e.name, sql: e.text.replace(/\s+/g, ' ').trim(), durationMs: Math.round(e.durationMs), failed: e.error ? true : undefined }, 'slow database statement')
    }
  })
  app.metrics.watchPool(db.pool)
  app.addHook('onClose', async () => {
    await db.close()
    await embedded?.stop()
  })
  // Fail fast at boot on a wrong URL or an unreachable server.
  await db.query('ping', 'SELECT 1')
  if (config.isProduction) {
    // least privilege (src/db/roles.ts): production should run as the row-access-only role
    const excess = await excessPrivileges(db)
    if (excess.length > 0) app.log.warn({ excess }, 'the database role of the server can do more than read and write rows: run it as the role npm run migrate grants (docs/deployment.md, Least privilege)')
  }
  if (config.migrateOnStart) {
    // as the owner when MIGRATION_DATABASE_URL is set; the embedded database keeps one role
    const owner = config.MIGRATION_DATABASE_URL ? connectionConfig(config.MIGRATION_DATABASE_URL, config.DATABASE_SSL_CA_FILE) : connection
    await migrate({ connection: owner, appRole: appRoleName(config), log: (msg) => app.log.debug(msg) })
    if (embedded) {
      const seeded = await seed(db)
      if (seededAny(seeded)) app.log.info(seeded, 'seeded the embedded database with demo data')
    } else if (await unseeded(db)) {
      // development on your own server: never writes demo data there unasked
      app.log.info('the database has no data yet: `npm run seed` inserts the demo data set (DATABASE_URL)')
    }
  }
}, { name: 'db', dependencies: ['metrics'], decorators: { fastify: ['metrics'] } })
