// Authorization rules live in the schema as @auth(requires: USER | SELF | ADMIN) and are enforced
// by mercurius-auth (https://github.com/mercurius-js/auth). This file is the one policy.
import type { DirectiveNode, GraphQLResolveInfo } from 'graphql'
import type { MercuriusContext } from 'mercurius'
import { gqlError } from '../error-codes.js'
import { securityEvent } from '../security/events.js'

const requirements = new WeakMap<DirectiveNode, string>()

function required (ast: DirectiveNode): string {
  let r = requirements.get(ast)
  if (r === undefined) {
    const arg = ast.arguments?.find((a) => a.name.value === 'requires')
    r = arg && arg.value.kind === 'EnumValue' ? arg.value.value : 'USER'
    requirements.set(ast, r)
  }
  return r
}

// a security event for the first denial of a request, not one per row of a list
const reported = new WeakSet<object>()

function deny (code: 'UNAUTHENTICATED' | 'FORBIDDEN', ctx: MercuriusContext, info: GraphQLResolveInfo, requires: string) {
  const request = ctx.reply?.request
  if (request && !reported.has(request)) {
    reported.add(request)
    securityEvent(request, 'authorization_denied', { code, field: `${info.parentType.name}.${info.fieldName}`, requires })
  }
  return code === 'UNAUTHENTICATED' ? gqlError(code, 'sign in to do this') : gqlError(code)
}

/** the policy for `@auth`, registered by registerDirectiveAuth (src/graphql/compat/mercurius-auth.ts) */
export function applyPolicy (ast: DirectiveNode, parent: { id?: string }, args: { id?: string }, ctx: MercuriusContext, info: GraphQLResolveInfo) {
  const caller = ctx.caller
  const onOperation = info.parentType.name === 'Mutation' || info.parentType.name === 'Query'
  const requires = required(ast)
  if (!caller) return deny(onOperation ? 'UNAUTHENTICATED' : 'FORBIDDEN', ctx, info, requires)
  if (caller.roles.includes('admin')) return true
  if (requires === 'USER') return true
  // SELF: the account the field's parent is (its id) or the one the operation names (id argument).
  if (requires === 'SELF' && (onOperation ? args.id : parent.id) === caller.sub) return true
  return deny('FORBIDDEN', ctx, info, requires)
}
