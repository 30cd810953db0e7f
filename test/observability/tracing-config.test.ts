// Tracing configuration: the standard OTEL_* variables, read through the config schema.
import { SamplingDecision, type Sampler } from '@opentelemetry/sdk-trace-base'
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { parseHeaders, sampler } from '../../src/observability/tracing-setup.js'

const base = { NODE_ENV: 'test' }
const decide = (s: Sampler, traceId: string, parentSampled?: boolean) => {
  const ctx = parentSampled === undefined
    ? ROOT_CONTEXT
    : trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: '00f067aa0ba902b7', traceFlags: parentSampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true })
  return s.shouldSample(ctx, traceId, 'span', SpanKind.SERVER, {}, []).decision
}

describe('OTEL_* configuration', () => {
  it('is off without an endpoint; the traces endpoint wins over the base one, which gets /v1/traces', () => {
    expect(loadConfig(base).otlpTracesUrl).toBeUndefined()
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com/otlp/' }).otlpTracesUrl).toBe('https://otlp.example.com/otlp/v1/traces')
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom' }).otlpTracesUrl).toBe('http://b:4318/custom')
  })

  it('refuses gRPC, a ratio outside 0..1, an unknown sampler and malformed headers', () => {
    for (const bad of [
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, { OTEL_TRACES_SAMPLER_ARG: '1.5' }, { OTEL_TRACES_SAMPLER: 'sometimes' },
      { OTEL_EXPORTER_OTLP_HEADERS: 'no-equals-sign' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' }
    ]) expect(() => loadConfig({ ...base, ...bad }), JSON.stringify(bad)).toThrow(ConfigError)
  })

  it('parses headers (percent-decoded values)', () => {
    expect(parseHeaders('x-honeycomb-team=abc,Authorization=Basic%20dXNlcjpwYXNz')).toEqual({ 'x-honeycomb-team': 'abc', Authorization: 'Basic dXNlcjpwYXNz' })
    expect(parseHeaders(undefined)).toEqual({})
  })

  it('samples as the standard samplers do; parent-based ones follow an incoming traceparent', () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736'
    const cfg = (name: string, arg = 1) => sampler(loadConfig({ ...base, OTEL_TRACES_SAMPLER: name, OTEL_TRACES_SAMPLER_ARG: String(arg) }))
    expect(decide(cfg('always_off'), id)).toBe(SamplingDecision.NOT_RECORD)
    expect(decide(cfg('always_on'), id)).toBe(SamplingDecision.RECORD_AND_SAMPLED)
    expect(decide(cfg('traceidratio', 0), id)).toBe(SamplingDecision.NOT_RECORD)
    expect(decide(cfg('parentbased_traceidratio', 0), id)).toBe(SamplingDecision.NOT_RECORD)
    expect(decide(cfg('parentbased_traceidratio', 0), id, true)).toBe(SamplingDecision.RECORD_AND_SAMPLED)
    expect(decide(cfg('parentbased_always_on'), id, false)).toBe(SamplingDecision.NOT_RECORD)
    // ratio 0.1: about a tenth of random trace ids
    const ratio = cfg('traceidratio', 0.1)
    let kept = 0
    for (let i = 0; i < 2000; i++) {
      const t = Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('')
      if (decide(ratio, t) === SamplingDecision.RECORD_AND_SAMPLED) kept++
    }
    expect(kept).toBeGreaterThan(100)
    expect(kept).toBeLessThan(320)
  })
})
