// Sends an unexpected (masked) error to Sentry with the request id, the operation and the caller's
// subject as tags. Sentry is initialised by src/instrument.ts (node --import) when SENTRY_DSN is
// set. Known codes never get here: the error formatter only reports errors it masks as
// INTERNAL_SERVER_ERROR.
import { isSpanContextValid, trace } from '@opentelemetry/api'
import type * as SentryModule from '@sentry/node'
import type { FastifyRequest } from 'fastify'
import type { OperationInfo } from './operations.js'
import { operationSpan } from './tracing.js'

export interface ReportContext {
  reply?: { request: { id: string } }
  /** the operation of this context (one per operation in a batch) */
  operation?: OperationInfo
}

export type Reporter = (err: unknown, ctx: ReportContext) => void

export function sentryReporter (sentry: typeof SentryModule): Reporter {
  return function reportUnexpected (err, ctx) {
    const request = ctx.reply?.request as FastifyRequest | undefined
    const op = ctx.operation ?? request?.graphqlOperation ?? undefined
    const sub = request?.caller?.sub
    const tags: Record<string, string> = {}
    if (request) tags.request_id = request.id
    if (op) {
      tags.operation_type = op.type
      // Sentry keeps tag values up to 200 characters
      tags.operation_name = (op.name ?? 'anonymous').slice(0, 200)
    }
    if (sub) tags.subject = sub.slice(0, 200)
    // tracing on: the event names the trace (a tag to search by, and Sentry's trace context)
    const span = (operationSpan(ctx) ?? trace.getActiveSpan())?.spanContext()
    const traced = span && isSpanContextValid(span)
    if (traced) tags.trace_id = span.traceId
    sentry.captureException(err, {
      tags,
      user: sub ? { id: sub } : undefined,
      ...(traced && { contexts: { trace: { trace_id: span.traceId, span_id: span.spanId } } })
    })
  }
}
