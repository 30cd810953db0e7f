// The HTTP server span, registered first by the app when tracing is on (src/observability/
// tracing-setup.ts starts OpenTelemetry): one SERVER span per request, named `POST /graphql`, that
// continues the caller's W3C traceparent; the rest of the request runs inside it
// (AsyncLocalStorage), so the GraphQL operation span and the PostgreSQL and Redis spans are its
// descendants. `/health`, `/ready` and `/metrics` are polled, not served: no span.
//
// Written here rather than with @fastify/otel: per request that one also reads the RPC metadata,
// calls an ignore-path callback, wraps the handler and its onSend in hooks of its own, and its
// context always holds the request span, sampled or not. A request that is not sampled (most of
// them) runs here with no span in its context at all, only its ids for the log lines
// (src/observability/trace-ids.ts): the Redis call of the rate limiter and every query skip their
// instrumentation at its first line, and no operation span is started. Measured under load in
// docs/tracing.md ("Cost").
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { withUnsampledIds } from './trace-ids.js'

const UNTRACED = new Set(['/health', '/ready', '/metrics'])
const SPAN = Symbol('http server span')
type Traced = FastifyRequest & { [SPAN]?: Span | null }

function endServerSpan (request: Traced, reply: FastifyReply, done: HookHandlerDoneFunction) {
  const span = request[SPAN]
  if (span) {
    request[SPAN] = null
    span.setAttribute('http.response.status_code', reply.statusCode)
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
    span.end()
  }
  done()
}

export default fp(async function serverSpan (app: FastifyInstance) {
  const tracer = trace.getTracer('bastion-http')
  app.decorateRequest(SPAN, null)
  // a callback hook: an async one costs a promise on every request, and done() must run inside context.with
  app.addHook('onRequest', (request: Traced, _reply, done) => {
    const route = request.routeOptions.url
    if (route !== undefined && UNTRACED.has(route)) return done()
    // the caller's traceparent, if any (W3C trace-context: the only propagator registered)
    const parent = propagation.extract(ROOT_CONTEXT, request.headers)
    const span = tracer.startSpan(route === undefined ? request.method : `${request.method} ${route}`, { kind: SpanKind.SERVER }, parent)
    let ctx: Context
    if (span.isRecording()) {
      // attributes after the sampling decision: only on spans that are kept
      span.setAttributes({
        'http.request.method': request.method,
        'url.path': request.url.split('?', 1)[0],
        ...(route !== undefined && { 'http.route': route })
      })
      request[SPAN] = span
      ctx = trace.setSpan(parent, span)
    } else {
      ctx = withUnsampledIds(parent, span.spanContext())
    }
    // every later hook, the handler and what they start run in this context
    context.with(ctx, done)
  })
  app.addHook('onError', (request: Traced, _reply, error, done) => {
    request[SPAN]?.recordException(error)
    done()
  })
  // after the response is sent (the span lasts as long as the request)
  app.addHook('onResponse', endServerSpan)
  // the client closed the connection first
  app.addHook('onRequestAbort', (request: Traced, done) => {
    const span = request[SPAN]
    if (span) {
      request[SPAN] = null
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'client aborted' })
      span.end()
    }
    done()
  })
}, { name: 'server-span' })
