// What an attacker's probe of the production build found, each kept fixed: a HEAD that ran a
// mutation, a GET by persisted-query hash that crashed Mercurius (500 on demand), registrations
// that filled Redis with 1 MB documents, control characters that outgrew the bytes a price allows,
// lone surrogates silently stored as U+FFFD, and a 5 KB document of repeated fields that cost
// graphql's validation ~220 ms of CPU.
import { randomBytes } from 'node:crypto'
import { afterAll, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { PERSISTED_QUERY_MAX_CHARS, sha256 } from '../../src/graphql/persisted-queries.js'
import { gql, MODERN_ACCEPT, token, useTestApp, useTestSql } from '../helpers/app.js'
import { deleteRedisKeys, describeWith, TEST_REDIS_URL } from '../helpers/services.js'

describeWith('redis', 'probe findings', () => {
  const prefix = `test-probe-${randomBytes(4).toString('hex')}:`
  // after-hooks run in reverse: this one last, once the app is closed
  afterAll(async () => { await deleteRedisKeys(prefix) })
  const t = useTestApp({ PERSISTED_QUERIES: 'automatic', REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, REDIS_COMMAND_TIMEOUT_MS: '1000' })
  const direct = useTestSql(t)
  const posts = async () => Number((await direct.sql.query('SELECT count(*) FROM posts')).rows[0].count)
  const get = (params: Record<string, string>, method: 'GET' | 'HEAD' = 'GET', headers: Record<string, string> = {}) =>
    t.app.inject({ method, url: `/graphql?${new URLSearchParams(params).toString()}`, headers: { 'graphql-require-preflight': '1', accept: MODERN_ACCEPT, ...headers } })

  it('HEAD never runs an operation: 405, and no row is written', async () => {
    const before = await posts()
    const res = await get({ query: 'mutation { createPost(input: { title: "head", body: "x" }) { id } }' }, 'HEAD', { authorization: `Bearer ${token('1')}` })
    expect(res.statusCode).toBe(405)
    expect(await posts()).toBe(before)
  })

  it('a GET by persisted-query hash is checked on the document it stands for: 400, never a 500', async () => {
    const doc = 'query A { __typename } query B { __typename }'
    const hash = sha256(doc)
    const register = await t.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', accept: MODERN_ACCEPT }, payload: JSON.stringify({ query: doc, operationName: 'A', extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }) })
    expect(register.statusCode).toBe(200)
    const extensions = JSON.stringify({ persistedQuery: { version: 1, sha256Hash: hash } })
    const cases: Array<Record<string, string>> = [{ extensions }, { extensions, operationName: 'C' }, { extensions, operationName: '' }]
    for (const params of cases) {
      const res = await get(params)
      expect([res.statusCode, res.json().errors[0].extensions.code]).toEqual([400, 'GRAPHQL_VALIDATION_FAILED'])
      expect(res.body).not.toContain('"C"')
    }
    const b = await get({ extensions, operationName: 'B' })
    expect([b.statusCode, b.json()]).toEqual([200, { data: { __typename: 'Query' } }])
  })

  it('a document larger than the persisted-query bound runs but is not kept (in Redis or memory)', async () => {
    const doc = `#${'x'.repeat(PERSISTED_QUERY_MAX_CHARS)}\n{ __typename }`
    const hash = sha256(doc)
    const body = (query?: string) => JSON.stringify({ ...(query && { query }), extensions: { persistedQuery: { version: 1, sha256Hash: hash } } })
    const ran = await t.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', accept: MODERN_ACCEPT }, payload: body(doc) })
    expect([ran.statusCode, ran.json()]).toEqual([200, { data: { __typename: 'Query' } }])
    const redis = new Redis(TEST_REDIS_URL!)
    try {
      expect(await redis.exists(`${prefix}apq:${hash}`)).toBe(0)
    } finally {
      redis.disconnect()
    }
    const again = await t.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', accept: MODERN_ACCEPT }, payload: body() })
    expect(again.json().errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND')
  })

  it('control characters in stored text are BAD_USER_INPUT and nothing is written', async () => {
    const before = await posts()
    const res = await gql(t.app, 'mutation ($t: String!) { createPost(input: { title: $t, body: "b" }) { id } }', { token: token('1'), variables: { t: `a${'\u0001'.repeat(50)}` } })
    expect(res.body.errors!.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT'])
    expect(await posts()).toBe(before)
    // tab, newline and carriage return stay allowed
    const ok = await gql(t.app, 'mutation ($t: String!) { createPost(input: { title: "t", body: $t }) { id } }', { token: token('1'), variables: { t: 'line\n\tindented\r\n' } })
    expect(ok.body.errors).toBeUndefined()
  })

  it('a lone surrogate in stored text is BAD_USER_INPUT (it was stored as U+FFFD); a real pair is kept', async () => {
    const before = await posts()
    for (const title of ['\ud800x', 'x\udfff']) {
      const res = await gql(t.app, 'mutation ($t: String!) { createPost(input: { title: $t, body: "b" }) { id } }', { token: token('1'), variables: { t: title } })
      expect(res.body.errors!.map((e) => [e.extensions.code, e.extensions.field])).toEqual([['BAD_USER_INPUT', 'title']])
    }
    expect(await posts()).toBe(before)
    const ok = await gql(t.app, 'mutation ($t: String!) { createPost(input: { title: $t, body: "b" }) { title } }', { token: token('1'), variables: { t: 'emoji \u{1F600}' } })
    expect(ok.body).toEqual({ data: { createPost: { title: 'emoji \u{1F600}' } } })
  })

  it('a selection repeating one field past the bound is refused before validation', async () => {
    const res = await gql(t.app, `# ${randomBytes(8).toString('hex')}\n{ ${'posts { id } '.repeat(490)}}`)
    expect(res.statusCode).toBe(400)
    expect(res.body.errors![0].extensions).toMatchObject({ code: 'QUERY_TOO_LARGE', limit: 'fields' })
    // a few repeats (fragments selecting the same field) are fine
    const fine = await gql(t.app, '{ a: __typename posts(limit: 1) { id } posts(limit: 1) { id } }')
    expect(fine.statusCode).toBe(200)
  })
})
