// The log mixin's ids (src/observability/trace-ids.ts): those of the active span, and of the
// request's span where an operation that is not sampled runs its resolvers with no span active
// (so the PostgreSQL and Redis instrumentations skip their calls): those lines keep the ids too.
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { traceIds, withoutSpan } from '../../src/observability/trace-ids.js'

const unsampled = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.NONE }

describe('trace ids on log lines', () => {
  // the SDK's registration, as src/observability/tracing-setup.ts does: its AsyncLocalStorage context manager
  beforeAll(() => { new NodeTracerProvider().register() })
  afterAll(() => { trace.disable(); context.disable(); propagation.disable() })

  it('the active span\'s ids; none outside a span or with the all-zero trace id', () => {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, unsampled)
    expect(context.with(ctx, traceIds)).toEqual({ trace_id: unsampled.traceId, span_id: unsampled.spanId, trace_sampled: false })
    expect(context.with(trace.setSpanContext(ROOT_CONTEXT, { ...unsampled, traceFlags: TraceFlags.SAMPLED }), traceIds)).toMatchObject({ trace_sampled: true })
    expect(traceIds()).toEqual({})
    expect(context.with(trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 })), traceIds)).toEqual({})
  })

  it('with the span taken out of the context (an unsampled operation\'s resolvers): no span, the same ids', () => {
    const bare = withoutSpan(trace.setSpanContext(ROOT_CONTEXT, unsampled))
    expect(trace.getSpan(bare)).toBeUndefined()
    expect(context.with(bare, traceIds)).toEqual({ trace_id: unsampled.traceId, span_id: unsampled.spanId, trace_sampled: false })
    expect(trace.getSpan(withoutSpan(ROOT_CONTEXT))).toBeUndefined()
  })
})
