// How switches refuse work. An operation or the all-mutations switch fails the whole request in
// preExecution, before any resolver runs, bound to the operation that executes (the document and
// operationName as graphql's getOperationAST resolves them), never to names in the query text.
// A field switch replaces that field's resolver in the served schema, so the field is an error at
// its own path whatever alias or fragment reached it (and however the document arrived: plain or
// persisted), and the rest of the data is sent. No switch set: the hook returns at its first line
// and the schema is the original one.
import { isObjectType, type DocumentNode, type GraphQLField, type GraphQLSchema } from 'graphql'
import type { MercuriusContext } from 'mercurius'
import { gqlError } from '../error-codes.js'
import { pinnedOperation } from '../graphql/compat/mercurius.js'
import type { Switch } from './targets.js'

export interface SwitchState {
  empty: boolean
  mutations?: Switch
  operations: Map<string, Switch>
  fields: Map<string, Switch>
}

export const EMPTY: SwitchState = { empty: true, operations: new Map(), fields: new Map() }

export function stateOf (list: Switch[]): SwitchState {
  const state: SwitchState = { empty: list.length === 0, operations: new Map(), fields: new Map() }
  for (const sw of list) {
    if (sw.target === 'Mutation') state.mutations = sw
    else if (sw.target.includes('.')) state.fields.set(sw.target, sw)
    else state.operations.set(sw.target, sw)
  }
  return state
}

function disabled (sw: Switch) {
  return gqlError('FEATURE_DISABLED', `Disabled: ${sw.reason}`, { reason: sw.reason })
}

/** the preExecution hook: a disabled operation, or any mutation while Mutation is disabled */
export function operationGuard (current: () => SwitchState) {
  return function refuseDisabledOperation (_schema: GraphQLSchema, document: DocumentNode, context: MercuriusContext) {
    const s = current()
    if (s.empty || (!s.mutations && s.operations.size === 0)) return
    // the operation that executes (src/graphql/compat/mercurius.ts), never a name in the request
    const op = pinnedOperation(context).node
    if (s.mutations && op.operation === 'mutation') throw disabled(s.mutations)
    const sw = op.name ? s.operations.get(op.name.value) : undefined
    if (sw) throw disabled(sw)
  }
}

type Resolve = GraphQLField<unknown, unknown>['resolve']

/**
 * Keeps the schema's resolvers in step with the field switches: a disabled field's resolver
 * throws FEATURE_DISABLED; enabling it puts the original back. `changed` is called after any
 * change (Mercurius must drop the queries it compiled against the old resolvers).
 */
export function fieldSwitcher (schema: () => GraphQLSchema, current: () => SwitchState, changed: () => void) {
  const saved = new Map<string, Resolve>()
  const field = (key: string) => {
    const [type, name] = key.split('.')
    const t = schema().getType(type)
    return isObjectType(t) ? t.getFields()[name] : undefined
  }
  return function apply (fields: Map<string, Switch>) {
    let dirty = false
    for (const [key, original] of saved) {
      if (fields.has(key)) continue
      const f = field(key)
      if (f) f.resolve = original
      saved.delete(key)
      dirty = true
    }
    for (const key of fields.keys()) {
      const f = field(key)
      if (!f || saved.has(key)) continue
      saved.set(key, f.resolve)
      f.resolve = () => { throw disabled(current().fields.get(key) ?? fields.get(key)!) }
      dirty = true
    }
    if (dirty) changed()
  }
}
