// What runs is what is priced: a null limit or offset is its default in the cost model as in the
// resolvers, skipped rows are priced, and mutations weigh more. The original requests of the
// adversarial probe, each with its new answer.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getNamedType, isListType, getNullableType, isObjectType } from 'graphql'
import type { App } from '../../src/app.js'
import { buildTestApp, errorsOf, gql, token, useTestApp } from '../helpers/app.js'
import { OFFSET_ROWS_PER_POINT } from '../../src/graphql/limits/complexity.js'
import { PAGE_DEFAULTS } from '../../src/graphql/validation.js'

const t = useTestApp()

const codeOf = (res: { body: { errors?: Array<{ extensions: { code: string, cost?: unknown } }> } }) => res.body.errors?.map((e) => [e.extensions.code, e.extensions.cost])
const cost = (res: { headers: Record<string, unknown> }) => Number(res.headers['x-ratelimit-cost'])
// posts { author { posts { author { ... posts { id } } } } }, `levels` lists of posts
const nest = (levels: number, limit: string) => {
  let inner = 'id'
  for (let i = 0; i < levels; i++) inner = `posts(limit: ${limit}) { ${i === 0 ? inner : `author { ${inner} }`} }`
  return `query ${limit === '$n' ? '($n: Int) ' : ''}{ ${inner} }`
}

describe('a null limit is the default page, priced as it runs', () => {
  it('the schema\'s defaults are the ones the resolvers and the cost model use', () => {
    const defaults = []
    for (const type of Object.values(t.app.graphql.schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue
      for (const field of Object.values(type.getFields())) {
        if (!isListType(getNullableType(field.type)) || !isObjectType(getNamedType(field.type))) continue
        defaults.push([`${type.name}.${field.name}`, Object.fromEntries(field.args.map((a) => [a.name, a.defaultValue]))])
      }
    }
    expect(defaults).toEqual([['User.posts', PAGE_DEFAULTS], ['Query.users', PAGE_DEFAULTS], ['Query.posts', PAGE_DEFAULTS]])
  })

  it.each([['literal null', 'null', undefined], ['a null variable', '$n', { n: null }], ['an omitted variable', '$n', {}], ['10', '10', undefined]])('%s: posts { author { posts } } runs 10 x 10 and costs 121', async (_, limit, variables) => {
    const res = await gql(t.app, nest(2, limit), { variables })
    expect(res.statusCode).toBe(200)
    expect(res.body.data.posts).toHaveLength(10)
    expect(res.body.data.posts[0].author.posts).toHaveLength(10)
    expect(cost(res)).toBe(121)
  })

  it('the probe\'s 5-level nest of posts(limit: null), once charged 15 points, is refused at its real cost', async () => {
    for (const [limit, variables] of [['null', undefined], ['$n', { n: null }], ['10', undefined]] as const) {
      const res = await gql(t.app, nest(5, limit), { variables })
      expect([res.statusCode, codeOf(res)]).toEqual([400, [['QUERY_TOO_COMPLEX', 122_221]]])
    }
  })
})

describe('offset is priced: 1 point per OFFSET_ROWS_PER_POINT rows skipped', () => {
  it('prices the rows skipped, with null as 0', async () => {
    expect(OFFSET_ROWS_PER_POINT).toBe(10)
    const cases: Array<[string, number]> = [
      ['{ posts(offset: 100) { id } }', 1 + 10 + 10],
      ['{ posts(offset: 101) { id } }', 1 + 10 + 11],
      ['{ posts(offset: null) { id } }', 1 + 10],
      // per parent: each user's page skips its rows
      ['{ users(limit: 2) { posts(offset: 5, limit: 1) { id } } }', 1 + 2 * (1 + 1 + 1)]
    ]
    for (const [query, expected] of cases) {
      const res = await gql(t.app, query)
      expect([query, res.statusCode, cost(res)]).toEqual([query, 200, expected])
    }
  })

  it('the probe\'s nine aliases of posts(limit: 100, offset: 99900), once 909 points, are refused', async () => {
    const query = `{ ${Array.from({ length: 9 }, (_, i) => `p${i}: posts(limit: 100, offset: 99900) { id }`).join(' ')} }`
    const res = await gql(t.app, query)
    expect([res.statusCode, codeOf(res)]).toEqual([400, [['QUERY_TOO_COMPLEX', 9 * (1 + 100 + 9990)]]])
  })

  it('an offset beyond what runs is priced at its maximum, a negative one at 0 (both refused by the resolver)', async () => {
    expect(codeOf(await gql(t.app, '{ posts(limit: 1, offset: 100000000) { id } }'))).toEqual([['QUERY_TOO_COMPLEX', 1 + 1 + 10_000]])
    const negative = await gql(t.app, '{ posts(limit: 1, offset: -5) { id } }')
    expect([cost(negative), errorsOf(negative.body)]).toEqual([2, [{ code: 'BAD_USER_INPUT', path: ['posts'] }]])
  })
})

describe('mutations weigh more (@cost(weight:))', () => {
  it('each mutation costs its documented weight plus its selection', async () => {
    const admin = token('1', ['admin'])
    const cases: Array<[string, number]> = [
      ['mutation { createUser(input: { name: "W", email: "weights@example.com" }) { id } }', 51],
      ['mutation { createPost(input: { title: "t", body: "b" }) { id } }', 51],
      ['mutation { updateUser(id: "2", input: { name: "Renamed" }) { id } }', 21]
    ]
    for (const [query, expected] of cases) {
      const res = await gql(t.app, query, { token: admin })
      expect([query, res.statusCode, res.body.errors, cost(res)]).toEqual([query, 200, undefined, expected])
    }
  })
})

describe('a write flood spends the cost budget faster than reads (RATE_LIMIT_POINTS = 120)', () => {
  let small: App
  beforeAll(async () => { small = await buildTestApp(t.db.url, { RATE_LIMIT_POINTS: '120' }) })
  afterAll(async () => { await small?.close() })

  it('two createPost (51 each) fit, the third is RATE_LIMITED and writes nothing; the same budget reads 60 times', async () => {
    const writer = token('7')
    const create = 'mutation { createPost(input: { title: "flood", body: "b" }) { id } }'
    const count = async () => {
      const sql = new pg.Client({ connectionString: t.db.url })
      await sql.connect()
      try {
        return Number((await sql.query("SELECT count(*) FROM posts WHERE author_id = 7 AND title = 'flood'")).rows[0].count)
      } finally { await sql.end() }
    }
    const before = await count()
    const answers = []
    for (let i = 0; i < 3; i++) {
      const res = await gql(small, create, { token: writer })
      answers.push([res.statusCode, res.body.errors?.[0]?.extensions.code])
    }
    expect(answers).toEqual([[200, undefined], [200, undefined], [429, 'RATE_LIMITED']])
    expect(await count()).toBe(before + 2)
    const reader = token('8')
    const reads = []
    for (let i = 0; i < 61; i++) reads.push((await gql(small, '{ users(limit: 1) { id } }', { token: reader })).statusCode)
    expect(reads).toEqual([...Array(60).fill(200), 429])
  })
})
