// The k6 suite's operations, checked in CI without k6: each is valid against the server's schema
// (or, if hostile, invalid in the intended way), and each one, sent to a real app exactly as the
// scripts send it, passes the very checks the scripts make.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildSchema, parse, validate } from 'graphql'
import type { App } from '../../src/app.js'
import { loadTypeDefs } from '../../src/graphql/schema.js'
import { buildTestApp, createTestDatabase, token, type TestDatabase } from '../helpers/app.js'
import { checksFor } from '../../k6/lib/checks.js'
import { DECK_SIZE, OPERATIONS, buildRequest, operation, pick, type Ctx, type Operation } from '../../k6/lib/operations.js'

const schema = buildSchema(loadTypeDefs())
const admin = token('1', ['admin'])
const ctx = (over: Partial<Ctx> = {}): Ctx => ({ run: 'ci', vu: 1, iter: 0, userIds: [], userIdMax: 300, ...over })

describe('against the schema', () => {
  const limited = ['tooDeep', 'tooComplex', 'aliasFlood']
  it.each(OPERATIONS.filter((op) => op.kind !== 'hostile' || limited.includes(op.name)).map((op) => [op.name, op]))(
    '%s is a valid operation', (_name, op) => {
      // the limit-breaking ones must be valid GraphQL, so that only the limits can reject them
      expect(validate(schema, parse(op.query)).map((e) => e.message)).toEqual([])
    })

  it('unknownField fails validation and syntaxError fails to parse', () => {
    expect(validate(schema, parse(operation('unknownField').query))).toHaveLength(1)
    expect(() => parse(operation('syntaxError').query)).toThrow(/Syntax Error/)
  })
})

describe('the mix', () => {
  it('shares 100 slots: the main query half, mutations 8, hostile 5, and every VU meets every operation', () => {
    const share = (kind: string) => OPERATIONS.filter((o) => o.kind === kind).reduce((s, o) => s + o.weight, 0)
    expect(DECK_SIZE).toBe(100)
    expect([operation('users').weight, share('mutation'), share('hostile')]).toEqual([50, 8, 5])
    for (const vu of [1, 2, 77]) {
      const seen = Array.from({ length: DECK_SIZE }, (_, iter) => pick(vu, iter).name)
      for (const op of OPERATIONS) expect(seen.filter((n) => n === op.name)).toHaveLength(op.weight)
    }
  })

  it('gives every mutation a key unique to run, operation, VU and iteration', () => {
    const keys = ['createPost', 'createUser'].flatMap((name) => [ctx(), ctx({ vu: 2 }), ctx({ iter: 1 }), ctx({ run: 'other' })]
      .map((c) => buildRequest(operation(name), c, { graphqlUrl: '/graphql', token: admin }).headers['idempotency-key']))
    expect(new Set(keys).size).toBe(8)
    expect(buildRequest(operation('users'), ctx(), { graphqlUrl: '/graphql', token: admin }).headers).toEqual({
      'content-type': 'application/json', accept: 'application/graphql-response+json, application/json;q=0.9', authorization: `Bearer ${admin}`
    })
  })
})

describe('against a real app', () => {
  let db: TestDatabase
  let app: App
  const userIds: string[] = []

  // as the scripts send it; the rate limits are raised as a load run needs them raised
  async function send (op: Operation, c: Ctx, bearer = admin) {
    const req = buildRequest(op, c, { graphqlUrl: '/graphql', token: bearer })
    const res = await app.inject({ method: 'POST', url: req.url, headers: req.headers, payload: req.body })
    const checks = checksFor(op, req.variables)
    const failed = Object.keys(checks).filter((name) => !checks[name]({ status: res.statusCode, body: res.body }))
    return { res, failed, json: res.json() }
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    app = await buildTestApp(db.url, { RATE_LIMIT_MAX: '1000000', RATE_LIMIT_POINTS: '1000000' })
    // what setup() does: users of this run for updateUser to rename
    for (let i = 0; i < 2; i++) {
      const created = await send(operation('createUser'), ctx({ vu: 0, iter: i }))
      userIds.push(created.json.data.createUser.id)
    }
  })
  afterAll(async () => {
    await app?.close()
    await db?.drop()
  })

  it.each(OPERATIONS.map((op) => [op.name, op]))('%s passes the script\'s checks', async (_name, op) => {
    const { res, failed } = await send(op, ctx({ userIds }))
    expect({ status: res.statusCode, failed }).toEqual({ status: op.expect.status, failed: [] })
  })

  it('answers the main query with the first ten seeded users and their e-mails', async () => {
    const { json } = await send(operation('users'), ctx())
    expect(json.data.users.map((u: { id: string, email: string }) => [u.id, u.email]))
      .toEqual(Array.from({ length: 10 }, (_, i) => [String(i + 1), `user${i + 1}@example.com`]))
  })

  it('passes every check for two VUs walking the whole mix', async () => {
    const failures: string[] = []
    for (const vu of [1, 2]) {
      for (let iter = 0; iter < DECK_SIZE; iter++) {
        const op = pick(vu, iter)
        const { failed } = await send(op, ctx({ vu, iter, userIds }))
        failures.push(...failed.map((f) => `vu ${vu} iter ${iter}: ${f}`))
      }
    }
    expect(failures).toEqual([])
  })

  it('fails the checks when the answer is wrong', async () => {
    // without role admin the e-mails are null with FORBIDDEN errors: the main query must not pass
    expect((await send(operation('users'), ctx(), token('2'))).failed).toEqual(['no GraphQL errors', 'users has the expected shape'])
    // a user id beyond the data answers null
    expect((await send(operation('userWithPosts'), ctx({ userIdMax: 100000, vu: 99999 }))).failed).toEqual(['userWithPosts has the expected shape'])
    // a hostile check fails on an accepted operation
    const accepted = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: { query: '{ users(limit: 1) { id } }' } })
    const checks = checksFor(operation('tooDeep'), {})
    expect(Object.keys(checks).filter((n) => !checks[n]({ status: accepted.statusCode, body: accepted.body }))).toEqual(['status is 400', 'tooDeep rejected with QUERY_TOO_DEEP'])
    // and on a rejection answered by the legacy rule (Accept: application/json, 200): the scripts
    // must send the modern Accept for their status checks to hold
    const req = buildRequest(operation('tooDeep'), ctx(), { graphqlUrl: '/graphql', token: admin })
    const legacy = await app.inject({ method: 'POST', url: req.url, headers: { ...req.headers, accept: 'application/json' }, payload: req.body })
    const again = checksFor(operation('tooDeep'), {})
    expect(Object.keys(again).filter((n) => !again[n]({ status: legacy.statusCode, body: legacy.body }))).toEqual(['status is 400'])
  })
})
