// Security events (authentication failures, authorization denials, rate-limit, budget, depth,
// complexity and size rejections) as one log shape: warn level, an `event` field, the client IP,
// the subject when known; the request id comes with request.log. Alerting can key on `event`.
import type { FastifyRequest } from 'fastify'
import { bounded } from '../http-errors.js'

export type SecurityEvent =
  | 'authentication_failed'
  | 'authorization_denied'
  | 'rate_limited'
  | 'budget_exhausted'
  | 'query_rejected'

export function securityEvent (request: FastifyRequest, event: SecurityEvent, fields: Record<string, unknown> = {}) {
  // the subject comes from a signed token, but a token can be kilobytes long: bounded like any client string
  request.log.warn({ event, ip: request.ip, sub: bounded(request.caller?.sub), ...fields }, event.replace('_', ' '))
}
