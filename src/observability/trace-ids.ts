// pino mixin for tracing (src/logger.ts installs it only when tracing is on): trace_id and span_id
// of the active span on every line logged inside a traced request; nothing outside one.
import { isSpanContextValid, trace } from '@opentelemetry/api'

export function traceIds (): Record<string, string> {
  const sc = trace.getActiveSpan()?.spanContext()
  return sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {}
}
