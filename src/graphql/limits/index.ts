// What a GraphQL request may ask for, all from configuration: tokens (graphql's parser), depth,
// aliases and directives (validation rules: once per distinct document, cached by mercurius),
// introspection, cost (before execution, with the variables) and the cost budget, batch size.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { NoSchemaIntrospectionCustomRule, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql'
import type { MercuriusContext } from 'mercurius'
import type { Config } from '../../config.js'
import { gqlError } from '../../error-codes.js'
import { pinnedOperation } from '../compat/mercurius.js'
import { operationCost } from './complexity.js'
import { depthRule, documentDepth } from './depth.js'
import { batchTooLarge, countRule } from './document.js'

export interface QueryCost { complexity: number, depth: number }

declare module 'mercurius' {
  interface MercuriusContext {
    /** set before execution: the operation's cost and depth (the metrics read them) */
    cost?: QueryCost
  }
}

/** Charges an operation's cost to the caller's budget; rejects with RATE_LIMITED when spent. */
export type ChargeCost = (reply: FastifyReply, cost: number) => Promise<void>

type LimitConfig = Pick<Config, 'MAX_QUERY_DEPTH' | 'MAX_QUERY_COMPLEXITY' | 'MAX_ALIASES' | 'MAX_DIRECTIVES' | 'MAX_TOKENS' | 'MAX_BATCH' | 'INTROSPECTION'>

export function validationRules (config: LimitConfig): ValidationRule[] {
  const rules: ValidationRule[] = [depthRule(config.MAX_QUERY_DEPTH, config.MAX_QUERY_COMPLEXITY)]
  if (config.MAX_ALIASES > 0) rules.push(countRule('aliases', config.MAX_ALIASES))
  if (config.MAX_DIRECTIVES > 0) rules.push(countRule('directives', config.MAX_DIRECTIVES))
  if (!config.INTROSPECTION) rules.push(NoSchemaIntrospectionCustomRule)
  return rules
}

/** graphql's parser stops after maxTokens; src/graphql/error-formatter.ts turns that into QUERY_TOO_LARGE. */
export function parseOptions (config: LimitConfig) {
  return config.MAX_TOKENS > 0 ? { maxTokens: config.MAX_TOKENS } : {}
}

/** The preExecution hook: cost (QUERY_TOO_COMPLEX over the limit), context.cost, the budget. */
export function costHook (config: LimitConfig, charge: ChargeCost | null) {
  const max = config.MAX_QUERY_COMPLEXITY
  return function limitCost (schema: GraphQLSchema, document: DocumentNode, context: MercuriusContext, variables?: Record<string, unknown>) {
    // the operation that executes (src/graphql/compat/mercurius.ts), in the document that runs
    const pinned = pinnedOperation(context)
    const complexity = operationCost(schema, document, pinned.node, variables)
    context.cost = { complexity, depth: documentDepth(pinned.source, pinned.name) ?? 0 }
    if (max > 0 && complexity > max) {
      throw gqlError('QUERY_TOO_COMPLEX', `Query costs ${complexity}, more than ${max}`, { cost: complexity, limit: max })
    }
    if (charge && context.reply) return charge(context.reply, complexity)
  }
}

/** Route hook (preValidation of POST /graphql): more operations than MAX_BATCH is QUERY_TOO_LARGE. */
export function batchHook (config: LimitConfig) {
  const max = config.MAX_BATCH
  return function limitBatch (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    if (Array.isArray(request.body) && request.body.length > max) return done(batchTooLarge(max))
    done()
  }
}
