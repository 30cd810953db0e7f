// The one place this project relies on mercurius-auth 6 beyond its typings
// (test/graphql/mercurius-compat.test.ts fails loudly when an upgrade changes either):
// - the package is CommonJS (module.exports = plugin) while its types declare a default export:
//   under NodeNext the default import is the plugin at run time, typed as the module namespace;
// - it awaits applyPolicy's result, so a synchronous policy works (no promise per protected
//   field), while its types ask for a function returning a Promise.
import type { FastifyPluginAsync } from 'fastify'
import type { DirectiveNode, GraphQLResolveInfo } from 'graphql'
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
