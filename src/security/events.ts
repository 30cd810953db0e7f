// Security events (authentication failures, authorization denials, rate-limit, budget, depth,
// complexity and size rejections) as one log shape: warn level, an `event` field, the client IP,
// the subject when known; the request id comes with request.log. Alerting can key on `event`.
import type { FastifyRequest } from 'fastify'

export type SecurityEvent =
  | 'authentication_failed'
  | 'authorization_denied'
  | 'rate_limited'
  | 'budget_exhausted'
  | 'query_rejected'

export function securityEvent (request: FastifyRequest, event: SecurityEvent, fields: Record<string, unknown> = {}) {
  request.log.warn({ event, ip: request.ip, sub: request.caller?.sub, ...fields }, event.replace('_', ' '))
}
