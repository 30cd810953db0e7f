// OpenTelemetry tracing, started from src/instrument.ts (node --import) before any module it
// patches is loaded, and only when an OTLP endpoint is configured: otherwise nothing here is even
// imported. Spans: the HTTP server span (@fastify/otel: the incoming W3C traceparent honoured, no
// per-hook or per-handler spans), the GraphQL operation span (src/observability/tracing.ts) and
// PostgreSQL and Redis client spans. Exported in batches over OTLP/HTTP, off the request path.
// https://opentelemetry.io/docs/languages/js/getting-started/nodejs/
//
// Cost: most requests are not sampled, so what each instrumentation does before it knows that
// counts. @opentelemetry/instrumentation-http is not used: it builds a dozen attributes, binds the
// request and response emitters to the context and records its metrics on every request, sampled
// or not, and the request span of @fastify/otel carries the same information (method, route,
// status, the caller's traceparent). Measured under load in docs/tracing.md.
import { createRequire } from 'node:module'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import type { Span } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { PgInstrumentation, type PgRequestHookInformation } from '@opentelemetry/instrumentation-pg'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler,
  type Sampler, type SpanExporter
} from '@opentelemetry/sdk-trace-node'
import type { Config } from '../config.js'

/** routes that are polled, not served: no spans (asked on every request: no allocation) */
const UNTRACED = new Set(['/health', '/ready', '/metrics'])
function untraced (url: string | undefined): boolean {
  if (!url) return false
  const query = url.indexOf('?')
  return UNTRACED.has(query < 0 ? url : url.slice(0, query))
}

export function sampler (config: Pick<Config, 'OTEL_TRACES_SAMPLER' | 'OTEL_TRACES_SAMPLER_ARG'>): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.OTEL_TRACES_SAMPLER_ARG)
  switch (config.OTEL_TRACES_SAMPLER) {
    case 'always_on': return new AlwaysOnSampler()
    case 'always_off': return new AlwaysOffSampler()
    case 'traceidratio': return ratio
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: ratio })
    default: return new ParentBasedSampler({ root: new AlwaysOnSampler() })
  }
}

/** OTEL_EXPORTER_OTLP_HEADERS (key=value,key2=value2; values may be percent-encoded) */
export function parseHeaders (raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of (raw ?? '').split(',')) {
    const at = pair.indexOf('=')
    if (at > 0) out[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim())
  }
  return out
}

async function exporter (config: Config): Promise<SpanExporter> {
  const options = { url: config.otlpTracesUrl, headers: parseHeaders(config.OTEL_EXPORTER_OTLP_HEADERS) }
  if (config.OTEL_EXPORTER_OTLP_PROTOCOL === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
    return new OTLPTraceExporter(options)
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto')
  return new OTLPTraceExporter(options)
}

// A statement sent as one simple query (BEGIN with an Idempotency-Key's claim and the write's
// first statement, a stored result with COMMIT: src/db/database.ts) carries its values as quoted
// literals, personal data included. The span keeps the statement's text with each literal as '?',
// as it keeps a parameterised statement's text without its values.
const LITERAL = /'(?:[^']|'')*'/g
function withoutLiterals (span: Span, { query }: PgRequestHookInformation) {
  if (query.values === undefined && query.text.includes("'")) span.setAttribute('db.query.text', query.text.replace(LITERAL, "'?'"))
}

export async function startTracing (config: Config): Promise<NodeTracerProvider> {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.OTEL_SERVICE_NAME }),
    sampler: sampler(config),
    spanProcessors: [new BatchSpanProcessor(await exporter(config))]
  })
  // the global tracer provider, AsyncLocalStorage context and W3C trace-context propagation (not
  // W3C baggage, the default's second propagator: nothing here reads it, and it is one more
  // header parsed and context made on every request)
  provider.register({ propagator: new W3CTraceContextPropagator() })
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        instrumentHooks: false,
        // no `handler - ...` span under the request span: one span fewer started on every request,
        // sampled or not (measured in docs/tracing.md, "Cost")
        instrumentHandler: false,
        ignorePaths: (route) => untraced(route.url),
        // the server span's conventional name, `POST /graphql` (only on spans that are kept)
        requestHook: (span, request) => {
          if (span.isRecording()) span.updateName(`${request.method} ${request.routeOptions.url ?? request.url}`)
        }
      }),
      // no span without a parent; a request that is not sampled has none where its resolvers run
      // (src/observability/tracing.ts), so its queries skip the instrumentation at its first line
      new PgInstrumentation({ requireParentSpan: true, requestHook: withoutLiterals }),
      new IORedisInstrumentation({ requireParentSpan: true })
    ]
  })
  // pg and ioredis are CommonJS: loaded once here through require, which the instrumentations hook
  // (require-in-the-middle), their classes are patched in place, and the application's `import`
  // of them gets the same, patched, module. No ESM loader hook (import-in-the-middle) is needed: it
  // runs in a thread of its own with a second V8 heap (about 30 MB resident at rest), for modules
  // nothing here patches.
  const require = createRequire(import.meta.url)
  require('pg')
  require('ioredis')
  return provider
}
