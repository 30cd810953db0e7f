// Load shedding with @fastify/under-pressure (https://github.com/fastify/under-pressure): while
// the event-loop delay, the heap or the RSS is over its threshold, requests get 503 with
// Retry-After and the one error body (src/http-errors.ts) with SERVICE_UNAVAILABLE, and /ready says why, so the load
// balancer sends traffic elsewhere before the process falls over. /health, /ready and /metrics
// still answer. The check per request compares numbers sampled every PRESSURE_SAMPLE_INTERVAL_MS.
import { getHeapStatistics } from 'node:v8'
import fp from 'fastify-plugin'
import underPressure from '@fastify/under-pressure'
import type { Config } from '../config.js'
import { errorBody } from '../http-errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** which threshold the process is over (eventLoopDelay, heapUsedBytes, rssBytes), or null */
    pressure: () => string | null
  }
}

export interface PressureOptions { config: Config }

// probes and scrapes must keep answering under pressure (/ready answers 503 itself, with the reason)
const EXEMPT = new Set(['/health', '/ready', '/metrics'])

export default fp<PressureOptions>(async function pressurePlugin (app, { config }) {
  const maxEventLoopDelay = config.PRESSURE_MAX_EVENT_LOOP_DELAY_MS
  // unset: 90% of V8's heap limit, the point where garbage collection starts to eat the event loop
  const maxHeapUsedBytes = config.PRESSURE_MAX_HEAP_USED_BYTES ?? Math.floor(getHeapStatistics().heap_size_limit * 0.9)
  const maxRssBytes = config.PRESSURE_MAX_RSS_BYTES
  const retryAfter = config.PRESSURE_RETRY_AFTER_SECONDS

  await app.register(underPressure, {
    maxEventLoopDelay,
    maxHeapUsedBytes,
    maxRssBytes,
    sampleInterval: config.PRESSURE_SAMPLE_INTERVAL_MS,
    retryAfter,
    // returning lets the request through, unless the reply was sent here: Fastify runs no further
    // hook and no handler for a sent reply
    pressureHandler: (request, reply, type) => {
      if (EXEMPT.has(request.routeOptions.url ?? '')) return
      request.log.warn({ event: 'load_shed', reason: type }, 'under pressure: request shed')
      reply.code(503).header('retry-after', String(retryAfter)).send(errorBody('SERVICE_UNAVAILABLE', request.id))
    }
  })

  app.decorate('pressure', () => {
    const m = app.memoryUsage()
    if (maxEventLoopDelay > 0 && m.eventLoopDelay > maxEventLoopDelay) return 'eventLoopDelay'
    if (maxHeapUsedBytes > 0 && m.heapUsed > maxHeapUsedBytes) return 'heapUsedBytes'
    if (maxRssBytes > 0 && m.rssBytes > maxRssBytes) return 'rssBytes'
    return null
  })
}, { name: 'pressure' })
