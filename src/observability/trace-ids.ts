// pino mixin for tracing (src/logger.ts installs it only when tracing is on): trace_id and span_id
// of the active span on every line logged inside a request, sampled or not, so one request's lines
// join across every service that propagated its traceparent; `trace_sampled` says whether the
// trace backend has it (a request that is not sampled is correlated in the logs only).
import { isSpanContextValid, trace, TraceFlags } from '@opentelemetry/api'

// a new object each time: pino merges the line's fields into it
export function traceIds (): Record<string, string | boolean> {
  const span = trace.getActiveSpan()
  if (!span) return {}
  const sc = span.spanContext()
  if (!isSpanContextValid(sc)) return {}
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_sampled: (sc.traceFlags & TraceFlags.SAMPLED) !== 0 }
}
