// What src/graphql/compat/mercurius.ts relies on in Mercurius, checked on a bare Fastify +
// Mercurius app: when an upgrade changes any of it, this file fails before anything else does.
import Fastify from 'fastify'
import mercurius, { type MercuriusContext } from 'mercurius'
import { afterEach, describe, expect, it } from 'vitest'
import { currentQueryText, pinOperation, requestedOperationName } from '../../src/graphql/compat/mercurius.js'

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
