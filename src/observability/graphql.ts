// GraphQL metrics and the slow-operation log, from Mercurius's lifecycle hooks
// (https://mercurius.dev/#/docs/hooks): preExecution names the operation that executes (once per
// distinct document and operation) and starts the clock; onResolution counts it by outcome, times it, and observes the
// cost that the limits put on the context. Operations that never execute (parse, validation,
// limits, authentication, rate limit, overload) are counted as `rejected` by the metrics plugin.
import type { FastifyInstance } from 'fastify'
import type { MercuriusContext } from 'mercurius'
import { pinnedOperation } from '../graphql/compat/mercurius.js'
import { child } from './metrics.js'
import { enabled } from './request-log.js'
import { boundedNames, operationDescriber, type OperationInfo } from './operations.js'

/** Codes that mean the server failed the operation, not the client. */
const SERVER_CODES = new Set(['INTERNAL_SERVER_ERROR', 'TIMEOUT', 'SERVICE_UNAVAILABLE'])

export interface GraphqlObservabilityOptions {
  operationNamesMax: number
  slowOperationMs: number
}

/** what the hooks keep on each operation's context (a batched request has one context per operation) */
interface Observed {
  operation?: OperationInfo
  operationStarted?: number
  operationVariables?: unknown
  /** { complexity, depth } put there by the query limits, when they ran */
  cost?: { complexity?: unknown, depth?: unknown }
  operationId?: number
}

export function observeGraphql (app: FastifyInstance, opts: GraphqlObservabilityOptions) {
  const describe = operationDescriber(boundedNames(opts.operationNamesMax))
  const m = app.metrics

  app.graphql.addHook('preExecution', function startOperationMetrics (_schema, _document, context, variables) {
    const ctx = context as MercuriusContext & Observed
    const request = ctx.reply.request
    // the operation that executes (src/graphql/compat/mercurius.ts)
    const op = describe(pinnedOperation(ctx).node)
    ctx.operation = op
    ctx.operationStarted = performance.now()
    ctx.operationVariables = variables
    request.graphqlOperation ??= op
  })

  app.graphql.addHook('onResolution', function recordOperationMetrics (execution, context) {
    const ctx = context as MercuriusContext & Observed
    const op = ctx.operation
    if (!op) return
    const request = ctx.reply.request
    request.graphqlExecuted = true
    const ms = performance.now() - (ctx.operationStarted ?? 0)
    const errors = execution.errors
    const outcome = !errors?.length
      ? 'success'
      : errors.some((e) => SERVER_CODES.has(e.extensions?.code as string)) ? 'server_error' : 'client_error'
    child(m.graphqlOperations, op.type, op.label, outcome).inc()
    child(m.graphqlDuration, op.type, op.label).observe(ms / 1000)
    const cost = ctx.cost
    if (cost) {
      if (typeof cost.complexity === 'number') m.graphqlComplexity.observe(cost.complexity)
      if (typeof cost.depth === 'number') m.graphqlDepth.observe(cost.depth)
    }
    if (ms >= opts.slowOperationMs && enabled(request.log, 'warn')) {
      // variables go through the logger's `variables` serializer, which redacts credentials
      request.log.warn({
        operationName: op.name, operationType: op.type, durationMs: Math.round(ms), outcome, variables: ctx.operationVariables
      }, 'slow graphql operation')
    }
  })
}
