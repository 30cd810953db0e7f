// One span per GraphQL operation, registered by the GraphQL plugin only when tracing is on
// (src/observability/tracing-setup.ts starts OpenTelemetry): named `<type> <name>`, with the
// operation's name, type, cost and document hash, a child of Fastify's request span. Root
// resolvers (where PostgreSQL and Redis work starts) run inside it, so their client spans are its
// children; there is no span per field. Errors that reach the error formatter are recorded on it.
// An operation that is not sampled keeps no span: its root resolvers run with none active, so the
// PostgreSQL and Redis instrumentations (requireParentSpan) return at their first line.
import { createHash } from 'node:crypto'
import { context as otel, SpanStatusCode, trace, TraceFlags, type Context, type Span } from '@opentelemetry/api'
import type { FastifyInstance } from 'fastify'
import { isObjectType, print, type DocumentNode, type GraphQLFieldResolver } from 'graphql'
import type { MercuriusContext } from 'mercurius'
import { pinnedOperation } from '../graphql/compat/mercurius.js'
import { withTimeout } from '../timeout.js'
import { withoutSpan } from './trace-ids.js'

const SPAN = Symbol('graphql operation span')
// the context the root resolvers run in: the operation span's, or (not sampled) the request's without its span
const RESOLVERS = Symbol('context of the root resolvers')
type Traced = MercuriusContext & { [SPAN]?: Span, [RESOLVERS]?: Context, cost?: { complexity?: unknown, depth?: unknown } }

/** the operation span of a GraphQL context, when tracing is on */
export const operationSpan = (ctx: unknown): Span | undefined => (ctx as Traced | undefined)?.[SPAN]

const hashes = new WeakMap<DocumentNode, string>()
function documentHash (document: DocumentNode): string {
  let hash = hashes.get(document)
  if (!hash) {
    // the query text as sent (the APQ hash of that text), else the printed document
    hash = createHash('sha256').update(document.loc?.source.body ?? print(document)).digest('hex')
    hashes.set(document, hash)
  }
  return hash
}

function setCost (span: Span, ctx: Traced) {
  if (typeof ctx.cost?.complexity === 'number') span.setAttribute('graphql.operation.cost', ctx.cost.complexity)
  if (typeof ctx.cost?.depth === 'number') span.setAttribute('graphql.operation.depth', ctx.cost.depth)
}

/** called by the error formatter with each error it sends, and whether execution ran */
export function recordErrors (ctx: unknown, errors: Array<{ err: unknown, code: string, known: boolean }>, executed: boolean) {
  const span = operationSpan(ctx)
  if (!span) return
  setCost(span, ctx as Traced)
  for (const { err, code, known } of errors) {
    span.recordException(err instanceof Error ? err : String(err))
    if (!known) span.setStatus({ code: SpanStatusCode.ERROR, message: code })
  }
  span.setAttribute('graphql.error.codes', [...new Set(errors.map((e) => e.code))])
  // refused before execution: onResolution never runs
  if (!executed) span.end()
}

/**
 * `parentBased`: the sampler follows the parent's decision (parentbased_*, the default), so an
 * operation under a request span that is not sampled is not sampled either: no span is started
 * for it at all (the sampler call, its random span id and the span object were most of the cost
 * of an unsampled operation, measured in docs/tracing.md, "Cost").
 */
export function traceGraphql (app: FastifyInstance, { parentBased }: { parentBased: boolean }) {
  const tracer = trace.getTracer('bastion-graphql')
  app.graphql.addHook('preExecution', function startOperationSpan (_schema, document, context) {
    const ctx = context as Traced
    const active = otel.active()
    if (parentBased) {
      const parent = trace.getSpan(active)
      if (parent && (parent.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) {
        // the active context without its (non-recording) span, for the root resolvers
        ctx[RESOLVERS] = withoutSpan(active)
        return
      }
    }
    // the operation that executes (src/graphql/compat/mercurius.ts)
    const { type, name: opName } = pinnedOperation(ctx)
    const span = tracer.startSpan(opName ? `${type} ${opName}` : type, undefined, active)
    if (!span.isRecording()) {
      ctx[RESOLVERS] = withoutSpan(active)
      return
    }
    // attributes after the sampling decision: the document hash only for operations that are kept
    span.setAttributes({
      'graphql.operation.type': type,
      ...(opName && { 'graphql.operation.name': opName.slice(0, 200) }),
      'graphql.document.hash': documentHash(document)
    })
    ctx[SPAN] = span
    ctx[RESOLVERS] = trace.setSpan(active, span)
  })
  app.graphql.addHook('onResolution', function endOperationSpan (_execution, context) {
    const ctx = context as Traced
    const span = ctx[SPAN]
    if (!span) return
    setCost(span, ctx)
    span.end()
  })
  // on shutdown, send the spans still batched (bounded: a dead collector does not hold the exit)
  app.addHook('onClose', async () => {
    const provider = (trace.getTracerProvider() as { getDelegate?: () => { forceFlush?: () => Promise<void> } }).getDelegate?.()
    if (!provider?.forceFlush) return
    await withTimeout(provider.forceFlush(), 2000).catch(() => {})
  })
  // root resolvers run inside the operation span: the SQL and Redis calls they start are its children
  const schema = app.graphql.schema
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    if (!isObjectType(root)) continue
    for (const field of Object.values(root.getFields())) {
      const resolve = field.resolve as GraphQLFieldResolver<unknown, Traced> | undefined
      if (!resolve) continue
      // the context made once per operation (preExecution), the resolver's arguments passed through: no closure per call
      field.resolve = (parent, args, ctx, info) => {
        const resolvers = ctx[RESOLVERS]
        return resolvers ? otel.with(resolvers, resolve, undefined, parent, args, ctx, info) : resolve(parent, args, ctx, info)
      }
    }
  }
}
