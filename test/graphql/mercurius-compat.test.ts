// What src/graphql/compat/mercurius.ts relies on in Mercurius (and compat/mercurius-auth.ts in
// mercurius-auth), checked on a bare Fastify + Mercurius app: when an upgrade changes any of it,
// this file fails before anything else does.
import Fastify from 'fastify'
import mercurius, { type MercuriusContext } from 'mercurius'
import { afterEach, describe, expect, it } from 'vitest'
import { currentQueryText, integerErrorPaths, persistedQueryProvider, pinOperation, requestedOperationName } from '../../src/graphql/compat/mercurius.js'
import { directiveAuth, mercuriusAuth, registerDirectiveAuth } from '../../src/graphql/compat/mercurius-auth.js'

const schema = 'type Query { a: String b: String }'
const resolvers = { Query: { a: () => 'A', b: () => 'B' } }
const DOC = 'query A { a } query B { b }'

let app: ReturnType<typeof Fastify> | undefined
afterEach(async () => { await app?.close() })

async function build (opts: { jit?: number, pin?: boolean, batch?: boolean }) {
  app = Fastify()
  await app.register(mercurius, { schema, resolvers, ...(opts.jit !== undefined && { jit: opts.jit }), allowBatchedQueries: opts.batch ?? false })
  const seen: Array<{ name: unknown, text: unknown, operationId: unknown }> = []
  if (opts.pin) app.graphql.addHook('preExecution', pinOperation)
  app.graphql.addHook('preExecution', async (_s: unknown, _d: unknown, context: MercuriusContext) => {
    seen.push({ name: requestedOperationName(context), text: currentQueryText(context), operationId: context.operationId })
  })
  await app.ready()
  return seen
}

const post = async (body: unknown) => (await app!.inject({ method: 'POST', url: '/graphql', payload: body as object })).json()

describe('Mercurius internals the compatibility module reads', () => {
  it('the operationName Mercurius executes is the request body\'s, and __currentQuery is the text it parsed', async () => {
    const seen = await build({})
    expect(await post({ query: DOC, operationName: 'B' })).toEqual({ data: { b: 'B' } })
    expect(seen).toEqual([{ name: 'B', text: DOC, operationId: undefined }])
  })

  it('a batch item\'s operationName is found at context.operationId', async () => {
    const seen = await build({ batch: true })
    expect(await post([{ query: DOC, operationName: 'A' }, { query: DOC, operationName: 'B' }])).toEqual([{ data: { a: 'A' } }, { data: { b: 'B' } }])
    expect(seen.map((s) => [s.operationId, s.name])).toEqual([[0, 'A'], [1, 'B']])
  })

  it('a preExecution hook\'s document is what executes, even once graphql-jit compiled the text', async () => {
    await build({ jit: 1, pin: true })
    for (const name of ['A', 'A', 'A', 'B', 'A', 'B']) {
      expect(await post({ query: DOC, operationName: name })).toEqual({ data: name === 'A' ? { a: 'A' } : { b: 'B' } })
    }
  })

  it('a single-operation text runs graphql-jit\'s compiled query once pinned, and a name it lacks is still refused', async () => {
    const ONE = 'query A { a }'
    app = Fastify()
    // graphql-jit adds `compiled` to the resolve info of the queries it compiled; graphql-js does not
    const a = (_: unknown, __: unknown, ___: unknown, info: { compiled?: boolean }) => info.compiled ? 'jit' : 'js'
    await app.register(mercurius, { schema, resolvers: { Query: { a } }, jit: 2, compilerOptions: { resolverInfoEnricher: () => ({ compiled: true }) } })
    app.graphql.addHook('preExecution', pinOperation)
    await app.ready()
    const answers = []
    for (const name of ['A', undefined, 'A', undefined]) answers.push((await post({ query: ONE, operationName: name })).data.a)
    expect(answers).toEqual(['js', 'js', 'jit', 'jit'])
    // compiled by now: a name the text lacks is refused by the pin, before any compiled query runs
    const refused = await post({ query: ONE, operationName: 'B' })
    expect(refused.data).toBeNull()
    expect(refused.errors[0].message).toMatch(/no operation of the requested operationName/)
    // a text with several operations never runs a compiled query
    for (let i = 0; i < 4; i++) expect(await post({ query: `${ONE} query B { b }`, operationName: 'A' })).toEqual({ data: { a: 'js' } })
  })
})

describe('the upstream defect (docs/security.md)', () => {
  it('Mercurius with graphql-jit runs the operation compiled first for a later operationName: if this fails, upstream fixed it', async () => {
    await build({ jit: 1 })
    expect(await post({ query: DOC, operationName: 'A' })).toEqual({ data: { a: 'A' } })
    expect(await post({ query: DOC, operationName: 'A' })).toEqual({ data: { a: 'A' } })
    // B asked for, A's compiled query runs
    expect(await post({ query: DOC, operationName: 'B' })).toEqual({ data: { a: 'A' } })
  })
})

describe('Mercurius behaviour the compatibility module adapts', () => {
  const listSchema = 'type Item { x: String } type Query { list: [Item] }'
  const listResolvers = { Query: { list: () => [{ x: 'ok' }, { x: null }] }, Item: { x: (item: { x: string | null }) => item.x ?? Promise.reject(new Error('no x')) } }

  async function buildList (widen: boolean) {
    app = Fastify()
    if (widen) app.addHook('onRoute', integerErrorPaths('/graphql'))
    await app.register(mercurius, { schema: listSchema, resolvers: listResolvers })
    await app.ready()
  }

  it('Mercurius\'s response schema turns list indices in error paths into strings: if this fails, upstream fixed it', async () => {
    await buildList(false)
    expect((await post({ query: '{ list { x } }' })).errors[0].path).toEqual(['list', '1', 'x'])
  })

  it('integerErrorPaths finds that schema on the GET and POST routes and keeps indices integers', async () => {
    await buildList(true)
    expect((await post({ query: '{ list { x } }' })).errors[0].path).toEqual(['list', 1, 'x'])
    const get = (await app!.inject({ method: 'GET', url: '/graphql?query=' + encodeURIComponent('{ list { x } }') })).json()
    expect(get.errors[0].path).toEqual(['list', 1, 'x'])
  })

  it('a persisted query provider may answer getHash with false and have no isPersistedQueryRetry', async () => {
    app = Fastify()
    await app.register(mercurius, {
      schema,
      resolvers,
      persistedQueryProvider: persistedQueryProvider({
        isPersistedQuery: () => true,
        getHash: (body) => (body.extensions as { hash?: string } | undefined)?.hash ?? false,
        getQueryFromHash: async (hash) => hash === 'h1' ? '{ a }' : undefined,
        notSupportedError: 'hashes only'
      })
    })
    await app.ready()
    expect(await post({ extensions: { hash: 'h1' } })).toEqual({ data: { a: 'A' } })
    const refused = await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ a }' } })
    expect(refused.json().errors[0].message).toBe('hashes only')
  })
})

describe('mercurius-auth internals the compatibility module reads', () => {
  it('the default import is the plugin itself (CommonJS), and a synchronous policy is awaited', async () => {
    expect(typeof mercuriusAuth).toBe('function')
    app = Fastify()
    await app.register(mercurius, {
      schema: 'directive @auth on FIELD_DEFINITION type Query { a: String @auth b: String @auth }',
      resolvers
    })
    await app.register(mercuriusAuth, directiveAuth('auth', (_directive, _parent, _args, _context, info) => info.fieldName === 'a' ? true : new Error('not b')))
    await app.ready()
    const body = await post({ query: '{ a b }' })
    expect(body.data).toEqual({ a: 'A', b: null })
    expect(body.errors.map((e: { message: string }) => e.message)).toEqual(['not b'])
  })

  it('registerDirectiveAuth answers exactly as mercurius-auth alone, with a synchronous guard on fields without a resolver', async () => {
    const rows = [{ id: '1', a: 'A1', b: 'B1', c: 'C1', d: 'D1' }, { id: '2', a: 'A2', b: 'B2', c: 'C2', d: 'D2' }]
    // a allowed, b an Error from the policy, c refused by `false`, d allowed on row 1 only; e has a resolver
    const policy = (_d: unknown, parent: { id: string }, _a: unknown, _c: unknown, info: { fieldName: string }) =>
      info.fieldName === 'b' ? new Error('not b') : info.fieldName === 'c' ? false : info.fieldName === 'd' ? parent.id === '1' : true
    const answers: unknown[] = []
    for (const guard of [false, true]) {
      app = Fastify()
      await app.register(mercurius, {
        schema: 'directive @auth on FIELD_DEFINITION type U { id: ID a: String @auth b: String @auth c: String @auth d: String @auth e: String @auth } type Query { us: [U] }',
        resolvers: { Query: { us: () => rows }, U: { e: (u: { id: string }) => `E${u.id}` } },
        jit: 1
      })
      if (guard) await registerDirectiveAuth(app, 'auth', policy as never)
      else await app.register(mercuriusAuth, directiveAuth('auth', policy as never))
      await app.ready()
      const fields = (app.graphql.schema.getType('U') as unknown as { getFields: () => Record<string, { resolve: (...a: unknown[]) => unknown }> }).getFields()
      // mercurius-auth wraps in an async function (what the guard is for); the guard is not one
      expect(fields.a.resolve.constructor.name).toBe(guard ? 'Function' : 'AsyncFunction')
      expect(fields.e.resolve.constructor.name).toBe('AsyncFunction')
      // twice: graphql-js, then graphql-jit's compiled query
      const first = await post({ query: '{ us { id a b c d e } }' })
      expect(await post({ query: '{ us { id a b c d e } }' })).toEqual(first)
      answers.push(first)
      await app.close()
      app = undefined
    }
    expect(answers[1]).toEqual(answers[0])
    expect((answers[0] as { data: unknown }).data).toEqual({ us: [{ id: '1', a: 'A1', b: null, c: null, d: 'D1', e: 'E1' }, { id: '2', a: 'A2', b: null, c: null, d: null, e: 'E2' }] })
    expect((answers[0] as { errors: Array<{ message: string }> }).errors.map((e) => e.message).sort()).toEqual(['Failed auth policy check on c', 'Failed auth policy check on c', 'Failed auth policy check on d', 'not b', 'not b'])
  })
})
