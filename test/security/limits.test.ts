// What a query may ask for: depth, cost (with its variables), aliases, directives, tokens, batch
// size, introspection. Each rejection is a 400 with its code and figures, logged as an event.
import { describe, expect, it } from 'vitest'
import { buildTestApp, errorsOf, gql } from '../helpers/app.js'
import { events, useLoggedApp, withDepth, withDepthThroughFragments, withDepthThroughInlineFragments } from './helpers.js'

// the documented defaults: depth 10, cost 1000, 15 aliases, 2000 tokens, 50 directives, no batching
const t = useLoggedApp()

const rejected = (code: string, extensions: Record<string, unknown> = {}) =>
  ({ errors: [expect.objectContaining({ message: expect.any(String), extensions: { code, ...extensions } })] })

describe('depth (root field = 0, at most MAX_QUERY_DEPTH = 10)', () => {
  it.each([
    ['plain selections', withDepth],
    ['named fragments', (d: number) => withDepthThroughFragments(d)],
    ['a fragment named __schema', (d: number) => withDepthThroughFragments(d, '__schema')],
    ['inline fragments', withDepthThroughInlineFragments]
  ])('counts depth through %s: 10 runs, 11 is QUERY_TOO_DEEP', async (_, build) => {
    const ok = await gql(t.app, build(10))
    expect(ok.statusCode).toBe(200)
    expect(ok.body.errors).toBeUndefined()
    expect(ok.body.data.users).toHaveLength(1)
    const deep = await gql(t.app, build(11))
    expect(deep.statusCode).toBe(400)
    expect(deep.body).toEqual(rejected('QUERY_TOO_DEEP', { limit: 10 }))
  })

  it('counts the documented example as depth 2', async () => {
    const small = await buildTestApp(t.db.url, { MAX_QUERY_DEPTH: '2' })
    try {
      expect((await gql(small, '{ users(limit: 1) { posts(limit: 1) { id } } }')).body).toEqual({ data: { users: [{ posts: [{ id: '10' }] }] } })
      expect((await gql(small, '{ users(limit: 1) { posts(limit: 1) { author { id } } } }')).body).toEqual(rejected('QUERY_TOO_DEEP', { limit: 2 }))
    } finally {
      await small.close()
    }
  })

  it.each([
    ['a spread of an undefined fragment', '{ users { ...Missing } }'],
    ['a fragment cycle', '{ users { ...A } } fragment A on User { ...B } fragment B on User { ...A }'],
    ['a fragment cycle through fields', '{ users { ...A } } fragment A on User { posts { author { ...A } } }'],
    ['a fragment spreading itself', '{ users { ...A } } fragment A on User { id ...A }']
  ])('answers %s with 400 GRAPHQL_VALIDATION_FAILED, never a crash', async (_, query) => {
    const res = await gql(t.app, query)
    expect(res.statusCode).toBe(400)
    expect(new Set(errorsOf(res.body).map((e) => e.code))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']))
  })

  it('refuses a fragment bomb (2^40 fields from 1 kB) as QUERY_TOO_COMPLEX, at once', async () => {
    let fragments = ''
    for (let i = 0; i < 40; i++) fragments += `fragment F${i} on User { ...F${i + 1} ...F${i + 1} } `
    const started = performance.now()
    const res = await gql(t.app, `{ users { ...F0 } } ${fragments} fragment F40 on User { id }`)
    // graphql-depth-limit alone walks every expansion: minutes of blocked event loop
    expect(performance.now() - started).toBeLessThan(5000)
    expect(res.statusCode).toBe(400)
    expect(res.body).toEqual(rejected('QUERY_TOO_COMPLEX', { cost: 2 ** 40 + 1, limit: 1000 }))
  })
})

describe('complexity (the documented cost model, MAX_QUERY_COMPLEXITY = 1000)', () => {
  it('costs the documented example 111 and puts cost and depth on the context', async () => {
    const seen: unknown[] = []
    t.app.graphql.addHook('onResolution', async (_execution, context) => { seen.push(context.cost) })
    const res = await gql(t.app, '{ users(limit: 10) { posts(limit: 10) { id } } }')
    expect(res.statusCode).toBe(200)
    expect(res.body.data.users).toHaveLength(10)
    expect(res.headers['x-ratelimit-cost']).toBe('111')
    // omitted limits use the argument's default (10): the same cost
    expect((await gql(t.app, '{ users { posts { id } } }')).headers['x-ratelimit-cost']).toBe('111')
    expect(seen).toEqual([{ complexity: 111, depth: 2 }, { complexity: 111, depth: 2 }])
  })

  it('uses the request\'s variable values: the same document costs 13 with n=3 and 10101 with n=100', async () => {
    const query = 'query ($n: Int) { users(limit: $n) { posts(limit: $n) { id } } }'
    const cheap = await gql(t.app, query, { variables: { n: 3 } })
    expect(cheap.statusCode).toBe(200)
    expect(cheap.headers['x-ratelimit-cost']).toBe('13')
    const costly = await gql(t.app, query, { variables: { n: 100 } })
    expect(costly.statusCode).toBe(400)
    expect(costly.body).toEqual(rejected('QUERY_TOO_COMPLEX', { cost: 10101, limit: 1000 }))
    // and again, now that the document is cached (and compiled)
    expect((await gql(t.app, query, { variables: { n: 3 } })).statusCode).toBe(200)
    expect((await gql(t.app, query, { variables: { n: 100 } })).body).toEqual(rejected('QUERY_TOO_COMPLEX', { cost: 10101, limit: 1000 }))
  })

  it('does not let a negative limit lower the cost of the rest', async () => {
    const res = await gql(t.app, '{ a: users(limit: 100) { posts(limit: 100) { id } } b: users(limit: -1000000) { posts(limit: 100) { id } } }')
    expect(res.statusCode).toBe(400)
    expect(res.body).toEqual(rejected('QUERY_TOO_COMPLEX', { cost: 10102, limit: 1000 }))
  })

  it('logs depth and complexity rejections as security events with IP and request id', async () => {
    const before = events(t.logs).length
    await gql(t.app, withDepth(11), { headers: { 'x-request-id': 'deep-1' } })
    await gql(t.app, '{ users(limit: 100) { posts(limit: 100) { id } } }', { headers: { 'x-request-id': 'costly-1' } })
    expect(events(t.logs).slice(before).map((l) => ({ event: l.event, code: l.code, ip: l.ip, reqId: l.reqId }))).toEqual([
      { event: 'query_rejected', code: 'QUERY_TOO_DEEP', ip: '127.0.0.1', reqId: 'deep-1' },
      { event: 'query_rejected', code: 'QUERY_TOO_COMPLEX', ip: '127.0.0.1', reqId: 'costly-1' }
    ])
  })
})

describe('document limits: 400 QUERY_TOO_LARGE naming the limit', () => {
  const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`
  // two directives a field, over five fields: no response name repeats past the bound on repeats
  const FIELDS = ['id', 'name', 'createdAt', '__typename', 'email']
  const directives = (n: number) => `{ me { ${Array.from({ length: Math.ceil(n / 2) }, (_, i) =>
    `${FIELDS[i % FIELDS.length]} @include(if: true)${2 * i + 1 < n ? ' @skip(if: false)' : ''}`).join(' ')} } }`

  // 2 + 9n tokens: n fragments of one field each, spread side by side (costing n)
  const tokens = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `...F${i}`).join(' ')} } ` +
    Array.from({ length: n }, (_, i) => `fragment F${i} on Query { __typename }`).join(' ')

  it.each([
    ['15 aliases', '16', aliases(15), aliases(16), { limit: 'aliases', max: 15 }],
    ['50 directives', '51', directives(50), directives(51), { limit: 'directives', max: 50 }],
    ['2000 tokens', '2009', tokens(222), tokens(223), { limit: 'tokens' }]
  ])('allows %s, refuses %s', async (_, _over, okQuery, overQuery, extensions) => {
    const ok = await gql(t.app, okQuery)
    expect(ok.statusCode).toBe(200)
    expect(ok.body.errors).toBeUndefined()
    const over = await gql(t.app, overQuery)
    expect(over.statusCode).toBe(400)
    expect(over.body).toEqual(rejected('QUERY_TOO_LARGE', extensions))
  })

  it('refuses a body over BODY_LIMIT_BYTES with 413', async () => {
    const res = await gql(t.app, `{ me { id } } # ${'x'.repeat(1_048_576)}`)
    expect(res.statusCode).toBe(413)
    expect(res.body).toEqual(rejected('QUERY_TOO_LARGE', { limit: 'body' }))
  })

  it('refuses a batch while batching is off (MAX_BATCH = 0)', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: [{ query: '{ me { id } }' }] })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual(rejected('QUERY_TOO_LARGE', { limit: 'batch', max: 0 }))
  })

  it('runs batches up to MAX_BATCH and refuses larger ones', async () => {
    const batching = await buildTestApp(t.db.url, { MAX_BATCH: '2' })
    try {
      const send = (n: number) => batching.inject({
        method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' },
        payload: Array.from({ length: n }, (_, i) => ({ query: `{ user(id: "${i + 1}") { id } }` }))
      })
      const two = await send(2)
      expect(two.statusCode).toBe(200)
      expect(two.json()).toEqual([{ data: { user: { id: '1' } } }, { data: { user: { id: '2' } } }])
      const three = await send(3)
      expect(three.statusCode).toBe(400)
      expect(three.json()).toEqual(rejected('QUERY_TOO_LARGE', { limit: 'batch', max: 2 }))
    } finally {
      await batching.close()
    }
  })
})

describe('introspection', () => {
  const query = '{ __schema { queryType { name } } }'
  it('answers outside production by default', async () => {
    expect((await gql(t.app, query)).body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } })
  })

  it('is refused with INTROSPECTION=false (GRAPHQL_VALIDATION_FAILED)', async () => {
    const closed = await buildTestApp(t.db.url, { INTROSPECTION: 'false' })
    try {
      for (const q of [query, '{ __type(name: "User") { name } }']) {
        const res = await gql(closed, q)
        expect(res.statusCode).toBe(400)
        expect(new Set(errorsOf(res.body).map((e) => e.code))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']))
      }
      // __typename is not introspection of the schema
      expect((await gql(closed, '{ me { __typename } }')).body).toEqual({ data: { me: null } })
    } finally {
      await closed.close()
    }
  })
})
