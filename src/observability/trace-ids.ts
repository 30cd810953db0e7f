// pino mixin for tracing (src/logger.ts installs it only when tracing is on): trace_id and span_id
// of the active span on every line logged inside a sampled request, the ids of a trace the backend
// has; nothing outside one, nor in a request that is not sampled (its trace is never exported).
import { trace, TraceFlags } from '@opentelemetry/api'

// a new object each time: pino merges the line's fields into it
export function traceIds (): Record<string, string> {
  const span = trace.getActiveSpan()
  // a sampled span context always has valid ids (the SDK made them, or the propagator checked them)
  if (!span) return {}
  const sc = span.spanContext()
  return (sc.traceFlags & TraceFlags.SAMPLED) !== 0 ? { trace_id: sc.traceId, span_id: sc.spanId } : {}
}
