// What a switch can name, checked before it reaches Redis, memory, a log line or a metric label:
// `Mutation` (every mutation), `Type.field` (a field that exists in the schema, root fields
// included) or an operation name (a GraphQL name). Counts and lengths are capped.
import { buildSchema, isObjectType, type GraphQLSchema } from 'graphql'
import { loadTypeDefs } from '../graphql/schema.js'

/** most switches held at once: the gauge's label set and the per-request lookups stay small */
export const MAX_SWITCHES = 100
export const MAX_REASON = 200
export const MAX_BY = 64
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/

export interface Switch {
  target: string
  reason: string
  /** who set it (OS user or --by) */
  by: string
  /** ISO time it was set */
  at: string
}

let cachedSchema: GraphQLSchema | undefined
/** the server's schema (directives included), built from its SDL for the command, which has no server */
function servedSchema (): GraphQLSchema {
  cachedSchema ??= buildSchema(loadTypeDefs())
  return cachedSchema
}

/** null when the target is acceptable, else what is wrong with it */
export function targetProblem (target: string, schema: GraphQLSchema = servedSchema()): string | null {
  if (target === 'Mutation') return null
  const parts = target.split('.')
  if (parts.length === 2) {
    const type = schema.getType(parts[0])
    if (!isObjectType(type) || parts[0].startsWith('__')) return `${parts[0].slice(0, 100)} is not an object type of the schema`
    if (!type.getFields()[parts[1]]) return `${parts[0]} has no field ${parts[1].slice(0, 100)}`
    return null
  }
  if (parts.length === 1 && NAME.test(target)) return null
  return 'a target is Mutation, Type.field or an operation name (a GraphQL name of at most 100 characters)'
}

/** a switch read back from Redis, or null when it is not one this code would have written */
export function parseSwitch (target: string, raw: string, schema?: GraphQLSchema): Switch | null {
  if (targetProblem(target, schema) !== null) return null
  try {
    const v = JSON.parse(raw) as Partial<Switch>
    if (typeof v.reason !== 'string' || typeof v.by !== 'string' || typeof v.at !== 'string') return null
    return { target, reason: v.reason.slice(0, MAX_REASON), by: v.by.slice(0, MAX_BY), at: v.at.slice(0, 40) }
  } catch {
    return null
  }
}
