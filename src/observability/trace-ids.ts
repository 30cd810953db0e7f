// pino mixin for tracing (src/logger.ts installs it only when tracing is on): trace_id and span_id
// of the active span on every line logged inside a request, sampled or not, so one request's lines
// join across every service that propagated its traceparent; `trace_sampled` says whether the
// trace backend has it (a request that is not sampled is correlated in the logs only).
import { context, createContextKey, INVALID_TRACEID, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api'

// the ids of the request's span where no span is active on purpose: the root resolvers of an
// operation that is not sampled run without one, so the PostgreSQL and Redis instrumentations
// skip their calls (src/observability/tracing.ts), and their log lines still carry the ids
const LOG_IDS = createContextKey('bastion span ids for log lines')

/** `ctx` without its span, its span's ids kept for the log lines */
export function withoutSpan (ctx: Context): Context {
  const span = trace.getSpan(ctx)
  const bare = trace.deleteSpan(ctx)
  return span ? bare.setValue(LOG_IDS, span.spanContext()) : bare
}

// a new object each time: pino merges the line's fields into it. No isSpanContextValid (two regular
// expressions per line): the ids come from the SDK or from the W3C propagator, which validates
// them; the API's no-op span (no SDK registered) carries the all-zero trace id.
export function traceIds (): Record<string, string | boolean> {
  const active = context.active()
  const sc = trace.getSpan(active)?.spanContext() ?? active.getValue(LOG_IDS) as SpanContext | undefined
  if (!sc || sc.traceId === INVALID_TRACEID) return {}
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_sampled: (sc.traceFlags & TraceFlags.SAMPLED) !== 0 }
}
