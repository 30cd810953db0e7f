// The ids of the request's trace for its log lines and Sentry events, sampled or not. The pino
// mixin (src/logger.ts installs it only when tracing is on) puts trace_id and span_id of the active
// span on every line logged inside a request, so one request's lines join across every service
// that propagated its traceparent; `trace_sampled` says whether the trace backend has it (a request
// that is not sampled is correlated in the logs only).
//
// A request that is not sampled runs with no span in its context, only these ids under a key of
// their own (src/observability/server-span.ts): the PostgreSQL and Redis instrumentations
// (requireParentSpan) then return at their first line, and no operation span is started.
import { context, createContextKey, isSpanContextValid, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api'

const UNSAMPLED = createContextKey('bastion unsampled trace ids')

/** `ctx` carrying the ids of a trace that is not sampled, with no span */
export const withUnsampledIds = (ctx: Context, ids: SpanContext): Context => ctx.setValue(UNSAMPLED, ids)

/** the ids of the active span, or those of a request that is not sampled */
export function activeSpanContext (): SpanContext | undefined {
  const ctx = context.active()
  const sc = trace.getSpan(ctx)?.spanContext() ?? ctx.getValue(UNSAMPLED) as SpanContext | undefined
  return sc && isSpanContextValid(sc) ? sc : undefined
}

// a new object each time: pino merges the line's fields into it
export function traceIds (): Record<string, string | boolean> {
  const sc = activeSpanContext()
  if (!sc) return {}
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_sampled: (sc.traceFlags & TraceFlags.SAMPLED) !== 0 }
}
