// The operation that runs is the operation that was checked (priced, authorized, logged), in every
// transport form, even after the same document text ran with another operationName. Mercurius
// 16.10.1 with graphql-jit ran the first compiled operation for every later name: these are the
// consequences found by an adversarial probe, each now a regression test.
import QuickLRU from 'quick-lru'
import { describe, expect, it, vi } from 'vitest'
import { errorsOf, gql, token, useTestApp, useTestSql } from '../helpers/app.js'
import { codes, FORMS, send } from './forms.js'

const t = useTestApp({ MAX_BATCH: '5', PERSISTED_QUERIES: 'automatic' })
const client = useTestSql(t)

// a batch answers 200 with each operation's own result
const refused = (form: string) => form === 'batch' ? 200 : 400
const postsBy = async (author: string) => Number((await client.sql.query('SELECT count(*) FROM posts WHERE author_id = $1', [author])).rows[0].count)

describe.each(FORMS)('%s', (form) => {
  // a distinct document text per form, so one form's cached state never helps another's
  const tag = form.toLowerCase()

  it('a cheap operation name never runs the expensive operation of the same document (cost bypass)', async () => {
    const D = `query A { __typename } query B($n: Int = 1) { users(limit: $n) { ${tag}: posts(limit: $n) { id author { posts(limit: $n) { id } } } } }`
    const a = await send(t.app, form, { query: D, operationName: 'A' })
    expect([a.status, a.body]).toEqual([200, { data: { __typename: 'Query' } }])
    const b = await send(t.app, form, { query: D, operationName: 'B', variables: { n: 1 } })
    expect(b.status).toBe(200)
    expect(b.body.data.users).toHaveLength(1)
    expect(b.seen).toEqual({ name: 'B', type: 'query', cost: 6 })
    for (let i = 0; i < 3; i++) {
      const again = await send(t.app, form, { query: D, operationName: 'A', variables: { n: 20 } })
      expect([again.status, again.body, again.seen]).toEqual([200, { data: { __typename: 'Query' } }, { name: 'A', type: 'query', cost: 1 }])
    }
    // and B with n = 20 is priced as what it is
    const direct = await send(t.app, form, { query: D, operationName: 'B', variables: { n: 20 } })
    expect([direct.status, codes(direct.body)]).toEqual([refused(form), ['QUERY_TOO_COMPLEX']])
  })

  it('a query\'s name never runs the mutation of the same document (no writes through GET or a query)', async () => {
    const D = `query Q { ${tag}: __typename } mutation M { createPost(input: { title: "t", body: "b" }) { id } }`
    const writer = token('3')
    const before = await postsBy('3')
    expect((await send(t.app, 'POST', { query: D, operationName: 'Q' }, writer)).body).toEqual({ data: { [tag]: 'Query' } })
    const m = await send(t.app, 'POST', { query: D, operationName: 'M' }, writer)
    expect(m.body.data.createPost.id).toEqual(expect.any(String))
    expect(await postsBy('3')).toBe(before + 1)
    for (let i = 0; i < 3; i++) {
      const q = await send(t.app, form, { query: D, operationName: 'Q' }, writer)
      expect([q.status, q.body, q.seen]).toEqual([200, { data: { [tag]: 'Query' } }, { name: 'Q', type: 'query', cost: 1 }])
    }
    expect(await postsBy('3')).toBe(before + 1)
    if (form === 'GET') {
      const viaGet = await send(t.app, 'GET', { query: D, operationName: 'M' }, writer)
      expect(viaGet.status).toBe(405)
      expect(await postsBy('3')).toBe(before + 1)
    }
  })

  it('a second caller asking for Feed never runs the first caller\'s compiled createPost', async () => {
    const D = `query Feed { ${tag}: posts(limit: 1) { id } } mutation Make { createPost(input: { title: "t", body: "b" }) { id } }`
    const [first, second] = [token('4'), token('5')]
    const before = [await postsBy('4'), await postsBy('5')]
    for (let i = 0; i < 3; i++) expect((await send(t.app, 'POST', { query: D, operationName: 'Make' }, first)).body.data.createPost.id).toEqual(expect.any(String))
    for (let i = 0; i < 3; i++) {
      const feed = await send(t.app, form, { query: D, operationName: 'Feed' }, second)
      expect([feed.status, feed.body, feed.seen]).toEqual([200, { data: { [tag]: [{ id: '1' }] } }, { name: 'Feed', type: 'query', cost: 2 }])
    }
    expect([await postsBy('4'), await postsBy('5')]).toEqual([before[0] + 3, before[1]])
  })

  it('an operationName the document lacks, or none for several operations, is 400 GRAPHQL_VALIDATION_FAILED', async () => {
    const D = `query A { ${tag}: __typename } query B { __typename }`
    for (const req of [{ query: D, operationName: 'C' }, { query: D }, { query: D, operationName: '' }, { query: `{ ${tag}: __typename }`, operationName: 'A' }]) {
      // twice: the second finds the document in Mercurius's cache
      for (let i = 0; i < 2; i++) {
        const res = await send(t.app, form, req)
        expect([res.status, codes(res.body), res.seen]).toEqual([refused(form), ['GRAPHQL_VALIDATION_FAILED'], undefined])
      }
    }
  })
})

// graphql-jit compiles a single-operation text on its 11th request (src/plugins/graphql.ts): the
// compiled query runs the same wrapped resolvers, so what every caller may see does not change
describe('a compiled document', () => {
  it('still authorizes each caller (an admin compiled it; a user reading e-mails is refused)', async () => {
    const Q = 'query Emails { users(limit: 2) { id email } }'
    // Mercurius keeps each text's parse in a quick-lru entry (the copy package.json lists, deduped),
    // whose `jit` holds the compiled query: caught here, it proves the checks below run on it
    const stored = vi.spyOn(QuickLRU.prototype, 'set')
    for (let i = 0; i < 12; i++) {
      const res = await gql(t.app, Q, { token: token('1', ['admin']) })
      expect(res.body.errors).toBeUndefined()
      expect(res.body.data.users[0].email).toEqual(expect.any(String))
    }
    const entry = stored.mock.calls.find(([text]) => text === Q)?.[1] as { jit: { query: (...args: unknown[]) => unknown } | null } | undefined
    stored.mockRestore()
    expect(typeof entry?.jit?.query, 'the text is compiled').toBe('function')
    const compiled = vi.spyOn(entry!.jit!, 'query')
    const res = await gql(t.app, Q, { token: token('9') })
    expect(compiled).toHaveBeenCalledTimes(1)
    expect(errorsOf(res.body)).toEqual([0, 1].map((i) => ({ code: 'FORBIDDEN', path: ['users', i, 'email'] })))
    expect(res.body.data.users.map((u: { email: unknown }) => u.email)).toEqual([null, null])
    // a name the text lacks is still refused, and nothing runs, the compiled query included
    const named = await gql(t.app, Q, { token: token('1', ['admin']), operationName: 'Other' })
    expect([named.statusCode, errorsOf(named.body).map((e) => e.code)]).toEqual([400, ['GRAPHQL_VALIDATION_FAILED']])
    expect(compiled).toHaveBeenCalledTimes(1)
  })
})
