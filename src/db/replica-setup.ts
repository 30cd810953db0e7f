// DATABASE_REPLICA_URLS: a pool per replica, their monitor, the router in front of the primary
// (src/db/routing.ts), read-your-writes through Redis once it is known, and the request sessions.
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { noRedis } from '../redis/breaker.js'
import { connectionConfig } from './connection.js'
import { createDatabase, type Database } from './database.js'
import { createReplicaSet } from './replicas.js'
import { createWriteLog } from './read-your-writes.js'
import { routeRequests } from './request-routing.js'
import { createRouter, type Route, type Router } from './routing.js'

export function withReplicas (app: FastifyInstance, config: Config, primary: Database, graphqlPath: string, onRoute?: (route: Route) => void): Router {
  const databases = config.DATABASE_REPLICA_URLS.map((url, i) => createDatabase({
    connection: connectionConfig(url, config.DATABASE_SSL_CA_FILE),
    min: Math.min(config.DATABASE_POOL_MIN, config.DATABASE_REPLICA_POOL_MAX),
    max: config.DATABASE_REPLICA_POOL_MAX,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: config.DATABASE_IDLE_TIMEOUT_MS,
    statementTimeoutMs: config.QUERY_TIMEOUT_MS,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    applicationName: 'bastion-replica',
    onIdleError: (err) => app.log.warn({ err, replica: `replica-${i}` }, 'idle replica connection failed'),
    onReadOnlyRetry: () => { if (app.hasDecorator('metrics')) app.metrics.dbReadOnlyRetries.inc() }
  }))
  const replicas = createReplicaSet({
    databases,
    maxLagMs: config.REPLICA_MAX_LAG_MS,
    onChange: (r, reason, err) => app.log[reason === 'healthy' ? 'info' : 'warn'](
      { replica: r.name, lagMs: r.lagMs, reason, err },
      reason === 'healthy' ? 'replica back in rotation' : 'replica out of rotation: its reads go to the primary')
  })
  // in process until Redis is known (it registers after the database), then shared through it
  let writeLog = createWriteLog({ redis: null, breaker: noRedis })
  const router = createRouter({
    primary,
    replicas,
    writes: { needed: (sub) => writeLog.needed(sub), record: (sub, lsn) => writeLog.record(sub, lsn) },
    onRoute
  })
  routeRequests(app, router, graphqlPath)
  app.addHook('onReady', async () => {
    if (app.hasDecorator('redis') && app.redis) {
      writeLog = createWriteLog({
        redis: app.redis,
        breaker: app.redisBreaker,
        onRecordFailed: (err) => app.log.warn({ err }, 'read-your-writes: Redis did not take a write position (retried every second)')
      })
    }
    // the first check before the first request: replicas serve from the start
    await replicas.check()
    replicas.start()
  })
  app.addHook('onClose', async () => { await writeLog.close() })
  return router
}
