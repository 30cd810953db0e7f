// The one place this project relies on mercurius-auth 6 beyond its typings
// (test/graphql/mercurius-compat.test.ts fails loudly when an upgrade changes any of these):
// - the package is CommonJS (module.exports = plugin) while its types declare a default export:
//   under NodeNext the default import is the plugin at run time, typed as the module namespace;
// - it awaits applyPolicy's result, so a synchronous policy works (no promise per protected
//   field), while its types ask for a function returning a Promise;
// - it wraps a protected field that has no resolver in an async one when registered, which
//   registerDirectiveAuth then replaces with a synchronous guard (its reason below), throwing
//   mercurius-auth's own error (lib/errors.js) when the policy answers false.
import { createRequire } from 'node:module'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { isObjectType, type DirectiveNode, type GraphQLField, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql'
import type { MercuriusContext } from 'mercurius'
import mercuriusAuthModule, { type MercuriusAuthOptions } from 'mercurius-auth'

export const mercuriusAuth = mercuriusAuthModule as unknown as FastifyPluginAsync<MercuriusAuthOptions>

/** a synchronous policy for a directive: true allows the field, an Error is the field's error */
export type DirectivePolicy<TParent, TArgs> =
  (directive: DirectiveNode, parent: TParent, args: TArgs, context: MercuriusContext, info: GraphQLResolveInfo) => boolean | Error

/** mercurius-auth's options for `@<authDirective>` enforced by a synchronous policy */
export function directiveAuth<TParent, TArgs> (authDirective: string, applyPolicy: DirectivePolicy<TParent, TArgs>): MercuriusAuthOptions {
  return { authDirective, applyPolicy: applyPolicy as unknown as MercuriusAuthOptions['applyPolicy'] }
}

// mercurius-auth's own error for a policy that answers false (its lib/errors.js; the package has
// no exports map, so the file is reachable as is)
const { MER_AUTH_ERR_FAILED_POLICY_CHECK } = createRequire(import.meta.url)('mercurius-auth/lib/errors.js') as {
  MER_AUTH_ERR_FAILED_POLICY_CHECK: new (field: string) => Error
}

interface PropertyField { field: GraphQLField<unknown, unknown>, directive: DirectiveNode }

/** the fields under `@<authDirective>` that have no resolver of their own (a property of the parent) */
function propertyFields (schema: GraphQLSchema, authDirective: string): PropertyField[] {
  const found: PropertyField[] = []
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue
    // a type-level directive makes mercurius-auth combine policies: those fields stay its own
    if (type.astNode?.directives?.some((d) => d.name.value === authDirective)) continue
    for (const field of Object.values(type.getFields())) {
      const directive = field.astNode?.directives?.find((d) => d.name.value === authDirective)
      if (directive && !field.resolve) found.push({ field, directive })
    }
  }
  return found
}

/**
 * Registers mercurius-auth for `@<authDirective>`, then gives the protected fields that have no
 * resolver of their own (a property of the parent) a synchronous guard in place of mercurius-auth's
 * async wrapper: the same policy, called with the same arguments, failing with the same errors,
 * without a promise per field per row (graphql-jit then also leaves its promise path for each row).
 * On the bench's main query, a list with such a field, that is 13% of the bytes allocated per
 * request (docs/performance.md, round 3). Fields with a resolver keep mercurius-auth's.
 */
export async function registerDirectiveAuth<TParent, TArgs> (app: FastifyInstance, authDirective: string, applyPolicy: DirectivePolicy<TParent, TArgs>) {
  const fields = propertyFields(app.graphql.schema, authDirective)
  await app.register(mercuriusAuth, directiveAuth(authDirective, applyPolicy))
  const policy = applyPolicy as DirectivePolicy<unknown, unknown>
  for (const { field, directive } of fields) {
    const name = field.name
    field.resolve = (parent, args, context, info) => {
      const result = policy(directive, parent, args, context as MercuriusContext, info)
      if (result instanceof Error) throw result
      if (!result) throw new MER_AUTH_ERR_FAILED_POLICY_CHECK(info.fieldName)
      return (parent as Record<string, unknown>)[name]
    }
  }
}
