// Idempotency-Key storage (src/db/repositories/idempotency.ts) and its retention: expired keys
// are deleted every few minutes by each instance (harmless when several do it at once).
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { idempotencyRepository, type IdempotencyRepository } from '../db/repositories/idempotency.js'

declare module 'fastify' {
  interface FastifyInstance { idempotency: IdempotencyRepository }
}

export interface IdempotencyOptions { config: Config }

const CLEANUP_EVERY_MS = 10 * 60_000

export default fp<IdempotencyOptions>(async function idempotencyPlugin (app, { config }) {
  const repo = idempotencyRepository(app.db, config.IDEMPOTENCY_TTL_HOURS)
  app.decorate('idempotency', repo)
  const timer = setInterval(() => {
    repo.cleanup().then((deleted) => { if (deleted > 0) app.log.info({ deleted }, 'expired idempotency keys deleted') },
      (err: Error) => app.log.warn({ err }, 'idempotency key cleanup failed'))
  }, CLEANUP_EVERY_MS)
  timer.unref()
  app.addHook('onClose', async () => { clearInterval(timer) })
}, { name: 'idempotency', dependencies: ['db'], decorators: { fastify: ['db'] } })
