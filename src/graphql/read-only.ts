// READ_ONLY=true, for database maintenance and incident response: every mutation fails before it
// runs (before authorization, cost or any SQL) with SERVICE_READ_ONLY; queries keep working. One
// preExecution hook, registered only while the switch is on, so it costs nothing otherwise.
// Toggled by configuration and a restart (a ConfigMap change and a rollout), never by a rebuild.
import { getOperationAST, type DocumentNode, type GraphQLSchema } from 'graphql'
import type { MercuriusContext } from 'mercurius'
import { gqlError } from '../errors.js'
import { operationNameOf } from './limits/index.js'

export function refuseMutations (_schema: GraphQLSchema, document: DocumentNode, context: MercuriusContext) {
  // the operation that will run (operationName picks one of several); an unknown one fails in execution
  if (getOperationAST(document, operationNameOf(context))?.operation === 'mutation') throw gqlError('SERVICE_READ_ONLY')
}
