// READ_ONLY=true, for database maintenance and incident response: every mutation fails before it
// runs (before authorization, cost or any SQL) with SERVICE_READ_ONLY; queries keep working. One
// preExecution hook, registered only while the switch is on, so it costs nothing otherwise.
// Toggled by configuration and a restart (a ConfigMap change and a rollout), never by a rebuild.
import type { DocumentNode, GraphQLSchema } from 'graphql'
import type { MercuriusContext } from 'mercurius'
import { gqlError } from '../error-codes.js'
import { pinnedOperation } from './compat/mercurius.js'

export function refuseMutations (_schema: GraphQLSchema, _document: DocumentNode, context: MercuriusContext) {
  // the operation that will run (src/graphql/compat/mercurius.ts)
  if (pinnedOperation(context).type === 'mutation') throw gqlError('SERVICE_READ_ONLY')
}
