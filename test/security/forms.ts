// One GraphQL request sent in each transport form the server accepts: POST, GET, a batch (the
// request second of two) and an automatic persisted query (registered once, then sent by hash).
import { sha256 } from '../../src/graphql/persisted-queries.js'
import type { App } from '../../src/app.js'

export type Form = 'POST' | 'GET' | 'batch' | 'persisted'
export const FORMS: Form[] = ['POST', 'GET', 'batch', 'persisted']

export interface Req { query: string, operationName?: string, variables?: Record<string, unknown> }
/** what a test-only onResolution hook saw for the request's operation: the pinned one, its cost */
export interface Seen { name: string | undefined, type: string, cost: number | undefined }
export interface Res { status: number, body: any, seen: Seen | undefined, bytes: number }

const registered = new WeakMap<App, Set<string>>()
const watched = new WeakMap<App, Map<string, Seen>>()

function watch (app: App): Map<string, Seen> {
  let seen = watched.get(app)
  if (!seen) {
    watched.set(app, seen = new Map())
    const record = seen
    app.graphql.addHook('onResolution', async (_execution, context) => {
      const id = `${context.reply.request.id as string}:${context.operationId ?? 0}`
      record.set(id, { name: context.pinned?.name, type: context.pinned?.type ?? 'none', cost: context.cost?.complexity })
    })
  }
  return seen
}

export async function send (app: App, form: Form, req: Req, token?: string): Promise<Res> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'mercurius-require-preflight': 'true',
    // the current GraphQL-over-HTTP media type: a request error is a 4xx (a batch is application/json)
    accept: 'application/graphql-response+json',
    ...(token ? { authorization: `Bearer ${token}` } : {})
  }
  const seen = watch(app)
  const requestId = `t${Math.random().toString(36).slice(2)}`
  headers['x-request-id'] = requestId
  let res
  if (form === 'GET') {
    const qs = new URLSearchParams({ query: req.query })
    if (req.operationName !== undefined) qs.set('operationName', req.operationName)
    if (req.variables !== undefined) qs.set('variables', JSON.stringify(req.variables))
    delete headers['content-type']
    res = await app.inject({ method: 'GET', url: `/graphql?${qs.toString()}`, headers })
  } else if (form === 'batch') {
    res = await app.inject({ method: 'POST', url: '/graphql', headers, payload: JSON.stringify([{ query: '{ __typename }' }, req]) })
  } else if (form === 'persisted') {
    const hash = sha256(req.query)
    const known = registered.get(app) ?? registered.set(app, new Set()).get(app)!
    const extensions = { persistedQuery: { version: 1, sha256Hash: hash } }
    // the first use registers the document (APQ's retry with the text), later ones send the hash
    const body = known.has(hash) ? { ...req, query: undefined, extensions } : { ...req, extensions }
    res = await app.inject({ method: 'POST', url: '/graphql', headers, payload: JSON.stringify(body) })
    if (res.statusCode === 200 && !res.json().errors) known.add(hash)
  } else {
    res = await app.inject({ method: 'POST', url: '/graphql', headers, payload: JSON.stringify(req) })
  }
  const parsed = res.json()
  const key = `${requestId}:${form === 'batch' ? 1 : 0}`
  const observed = seen.get(key)
  seen.delete(`${requestId}:0`)
  seen.delete(`${requestId}:1`)
  return {
    status: res.statusCode,
    body: form === 'batch' && Array.isArray(parsed) ? parsed[1] : parsed,
    seen: observed,
    bytes: res.rawPayload.length
  }
}

export const codes = (body: { errors?: Array<{ extensions?: { code?: string } }> }) => (body.errors ?? []).map((e) => e.extensions?.code)
